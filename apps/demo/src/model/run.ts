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

/**
 * `tx inspect` in the page: one forward pass, keeping every layer's attention
 * and Q, K, V. Text longer than the context is read as the model reads it
 * while generating, with a sliding window: query i attends to the last
 * blockSize tokens up to i (Q, K, V are then those of the first window).
 */
export async function inspect(model: GPT, tokenizer: TokenizerLike, text: string, { maxTokens = 1024 }: { maxTokens?: number } = {}): Promise<Inspection> {
  const ids = tokenizer.encode(text).slice(-maxTokens);
  if (ids.length === 0) throw new Error('the text has no characters the model knows');
  const N = ids.length;
  const bs = model.config.blockSize;
  const T = Math.min(N, bs);
  const first = await forwardTrace(model, [ids.slice(0, T)]);
  const attention = first.attention.map((layer) => layer.map((head) => head[0].map((row) => {
    const full = new Array<number>(N).fill(0);
    for (let k = 0; k < row.length; k++) full[k] = row[k];
    return full;
  })));
  const logits = first.logits[0].slice();
  if (N > bs) {
    // Windows ending at each later query, in batches.
    for (let start = bs; start < N; start += 64) {
      const ends = Array.from({ length: Math.min(64, N - start) }, (_, i) => start + i);
      const r = await forwardTrace(model, ends.map((q) => ids.slice(q - bs + 1, q + 1)), { qkv: false });
      ends.forEach((q, b) => {
        logits.push(r.logits[b][bs - 1]);
        r.attention.forEach((layer, l) => layer.forEach((head, h) => {
          const row = attention[l][h][q] ?? (attention[l][h][q] = new Array<number>(N).fill(0));
          const last = head[b][bs - 1];
          for (let j = 0; j < bs; j++) row[q - bs + 1 + j] = last[j];
        }));
      });
    }
  }
  let loss = 0;
  for (let i = 0; i + 1 < N; i++) loss -= logSoftmaxAt(logits[i], ids[i + 1]);
  return {
    tokens: ids.map((id) => tokenizer.decode([id])), ids,
    attention: attention.map((layer) => layer.map((head) => head.map((row) => row))),
    logits, loss: N > 1 ? loss / (N - 1) : 0,
    q: first.q.map((l) => l.map((h) => h[0])),
    k: first.k.map((l) => l.map((h) => h[0])),
    v: first.v.map((l) => l.map((h) => h[0])),
  };
}

interface Trace {
  logits: number[][][];
  /** [layer][head][batch][T][T] */
  attention: number[][][][][];
  q: number[][][][][];
  k: number[][][][][];
  v: number[][][][][];
}

async function forwardTrace(model: GPT, rows: number[][], { qkv = true }: { qkv?: boolean } = {}): Promise<Trace> {
  const B = rows.length, T = rows[0].length;
  const trace: LayerTrace[] = [];
  const logitsT = model.forward(rows.flat(), B, T, trace);
  try {
    // [B, H, T, X] -> [H][B][T][X]
    const byHead = async (t: tf.Tensor4D) => {
      const a = (await t.array()) as number[][][][];
      return Array.from({ length: t.shape[1] }, (_, h) => a.map((batch) => batch[h]));
    };
    const logits = (await logitsT.array()) as number[][][];
    const attention = await Promise.all(trace.map((l) => byHead(l.attention)));
    const empty = trace.map(() => [] as number[][][][]);
    return {
      logits, attention,
      q: qkv ? await Promise.all(trace.map((l) => byHead(l.q))) : empty,
      k: qkv ? await Promise.all(trace.map((l) => byHead(l.k))) : empty,
      v: qkv ? await Promise.all(trace.map((l) => byHead(l.v))) : empty,
    };
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
        // The window is padded to the full context: the mask keeps padding
        // out of earlier positions, and one fixed shape means WebGPU compiles
        // each kernel once instead of once per length.
        const window = ids.slice(-model.config.blockSize);
        const padded = window.concat(new Array<number>(model.config.blockSize - window.length).fill(0));
        const logits = tf.tidy(() => {
          const all = model.forward(padded, 1, padded.length);
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
