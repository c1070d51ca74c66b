// Running a GPT for the views: inspect a text (tokens, attention, Q/K/V of
// every layer, logits, loss) and the decoder interface @tx/generate drives.
import { tf } from '@tx/core';
import type { CausalLanguageModel, Decoder } from '@tx/generate';
import type { InspectData } from '../lib/data.js';
import type { GPT, LayerTrace } from './gpt.js';

export interface TokenizerLike {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface Inspection extends InspectData {
  /** Per layer, per head: [T][D] arrays of queries, keys, values. */
  q: number[][][][];
  k: number[][][][];
  v: number[][][][];
}

/** `tx inspect` in the page: one forward pass over the last blockSize ids of the text. */
export async function inspect(model: GPT, tokenizer: TokenizerLike, text: string): Promise<Inspection> {
  const ids = tokenizer.encode(text).slice(-model.config.blockSize);
  if (ids.length === 0) throw new Error('the text has no characters the model knows');
  const T = ids.length;
  const trace: LayerTrace[] = [];
  const logitsT = model.forward(ids, 1, T, trace);
  try {
    const logits = ((await logitsT.array()) as number[][][])[0];
    const take = async (t: tf.Tensor4D) => ((await t.array()) as number[][][][])[0];
    const attention = await Promise.all(trace.map((l) => take(l.attention)));
    const q = await Promise.all(trace.map((l) => take(l.q)));
    const k = await Promise.all(trace.map((l) => take(l.k)));
    const v = await Promise.all(trace.map((l) => take(l.v)));
    let loss = 0;
    for (let i = 0; i + 1 < T; i++) loss -= logSoftmaxAt(logits[i], ids[i + 1]);
    return { tokens: ids.map((id) => tokenizer.decode([id])), ids, attention, logits, loss: T > 1 ? loss / (T - 1) : 0, q, k, v };
  } finally {
    logitsT.dispose();
    for (const l of trace) tf.dispose([l.attention, l.q, l.k, l.v]);
  }
}

function logSoftmaxAt(row: number[], index: number): number {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row[index] - lse;
}

/** The decoder @tx/generate needs: recomputes the window each step (no KV cache in the stand-in). */
export function asLanguageModel(model: GPT): CausalLanguageModel {
  const decoderFrom = (prefix: number[]): Decoder => {
    const ids = prefix.slice();
    return {
      async feed(newIds) {
        ids.push(...newIds);
        const window = ids.slice(-model.config.blockSize);
        const logits = tf.tidy(() => {
          const all = model.forward(window, 1, window.length);
          return tf.squeeze(tf.slice(all, [0, window.length - 1, 0], [1, 1, -1]));
        });
        const data = (await logits.data()) as Float32Array;
        logits.dispose();
        return { logits: Float32Array.from(data) };
      },
      fork: () => decoderFrom(ids),
      dispose() {},
    };
  };
  return {
    vocabSize: model.config.vocabSize,
    contextLength: model.config.blockSize,
    startDecoder: () => decoderFrom([]),
  };
}
