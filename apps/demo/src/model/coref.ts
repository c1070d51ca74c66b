// Running the coref encoder (@tx/blocks' Encoder over @tx/tokenizer's words)
// for the views: `tx inspect` in the page. One forward pass gives every
// layer's attention, Q, K and V, and, from the pronoun, the pointer: the
// coref head's attention row, whose largest weight is the answer.
import type { Encoder } from '@tx/blocks';
import { tf } from '@tx/core';
import type { WordTokenizer } from '@tx/tokenizer';
import { findPronouns } from '@tx/train';
import type { Inspection } from './run.js';

export interface CorefInspection extends Inspection {
  /** Words of the text the vocabulary lacks (read as <unk>). */
  unknown: string[];
}

export async function inspectEncoder(model: Encoder, tokenizer: WordTokenizer, text: string): Promise<CorefInspection> {
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new Error('the text has no words');
  if (ids.length > model.config.blockSize) throw new Error(`the text is ${ids.length} words; this model reads at most ${model.config.blockSize}`);
  const tokens = ids.map((id) => tokenizer.decode([id]));
  const pronoun = findPronouns(tokens)[0] ?? -1;
  const wasTraining = model.training;
  model.eval();
  const input = tf.tensor2d([ids], [1, ids.length], 'int32');
  const query = pronoun >= 0 ? tf.tensor1d([pronoun], 'int32') : null;
  const out = model.forward(input, { query, returnAttention: true, returnQKV: true });
  model.train(wasTraining);
  tf.dispose([input, ...(query ? [query] : [])]);
  try {
    const first = async (t: tf.Tensor) => ((await t.array()) as number[][][][])[0];
    const attention = await Promise.all(out.attention!.map(first));
    const [q, k, v] = await Promise.all((['q', 'k', 'v'] as const).map((which) => Promise.all(out.qkv!.map((l) => first(l[which])))));
    const result: CorefInspection = { tokens, ids, attention, q, k, v, causal: false, corefHead: [...model.config.pointerHead] as [number, number], unknown: tokenizer.unknownWords(text) };
    if (out.pointer) {
      const softmax = tf.softmax(out.pointer);
      const p = Array.from(await softmax.data());
      softmax.dispose();
      const index = p.indexOf(Math.max(...p));
      Object.assign(result, { pronoun, referent: { index, token: tokens[index], p: p[index] } });
    }
    return result;
  } finally {
    tf.dispose([out.hidden, ...(out.pointer ? [out.pointer] : []), ...out.attention!, ...out.qkv!.flatMap((l) => [l.q, l.k, l.v])]);
  }
}
