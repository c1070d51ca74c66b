// Running the coref encoder (@tx/blocks' Encoder over @tx/tokenizer's words)
// for the views: `tx inspect` in the page. One forward pass gives every
// layer's attention, Q, K and V, and, from the pronoun, the pointer: the
// coref head's attention row, whose largest weight is the answer.
import type { Encoder } from '@tx/blocks';
import { tf } from '@tx/core';
import type { WordTokenizer } from '@tx/tokenizer';
import { corefReading } from '@tx/train';
import { corefVerdict, winogradNote } from '../lib/honesty.js';
import { readProjections } from './projections.js';
import type { Inspection } from './run.js';

export interface CorefInspection extends Inspection {
  /** Words of the text the vocabulary lacks (the model reads them as <unk>; `tokens` keeps their text). */
  unknown: string[];
}

/** A text the model cannot read (no words, too long): the page clears its picture and says why. */
export class Unreadable extends Error {}

/** Run the coref encoder on `text`: attention, Q/K/V, and the answer with what qualifies it. */
export async function inspectEncoder(model: Encoder, tokenizer: WordTokenizer, text: string): Promise<CorefInspection> {
  const ids = tokenizer.encode(text);
  if (ids.length === 0) throw new Unreadable('the text has no words');
  if (ids.length > model.config.blockSize) throw new Unreadable(`the text is ${ids.length} words; this model reads at most ${model.config.blockSize}`);
  // The words as typed (lowercased), not <unk>: the model reads an unknown word as <unk>, the page shows what it was.
  const pieces = tokenizer.split(text).map((p) => p.word);
  const tokens = pieces.length === ids.length ? pieces : ids.map((id) => tokenizer.decode([id]));
  const unseen = new Set(tokenizer.unknownWords(text));
  const unknownAt = tokens.map((t) => unseen.has(t));
  const reading = corefReading(tokens);
  const pronoun = reading.pronoun ?? -1;
  const wasTraining = model.training;
  model.eval();
  const input = tf.tensor2d([ids], [1, ids.length], 'int32');
  const query = pronoun >= 0 ? tf.tensor1d([pronoun], 'int32') : null;
  const out = model.forward(input, { query, returnAttention: true, returnQKV: true });
  tf.dispose(query ? [query] : []);
  try {
    const first = async (t: tf.Tensor) => ((await t.array()) as number[][][][])[0];
    const attention = await Promise.all(out.attention!.map(first));
    const [q, k, v] = await Promise.all((['q', 'k', 'v'] as const).map((which) => Promise.all(out.qkv!.map((l) => first(l[which])))));
    const knows = { words: tokenizer.words.length };
    // The sinusoidal input layer is private to Encoder; it is the same first step its forward pass takes.
    const x0 = tf.tidy(() => (model as unknown as { input: { forward(t: tf.Tensor): tf.Tensor } }).input.forward(model.embed.forward(input)));
    const projections = await readProjections([...model.h], x0, [...model.h].map((_, l) => l)).finally(() => x0.dispose());
    const result: CorefInspection = { tokens, ids, attention, q, k, v, causal: false, corefHead: [...model.config.pointerHead] as [number, number], unknown: [...unseen], unknownAt, projections, knownWords: knows.words, note: winogradNote(tokens, unknownAt, knows) };
    let p: number[] | null = null;
    if (out.pointer) {
      const softmax = tf.softmax(out.pointer);
      p = Array.from(await softmax.data());
      softmax.dispose();
    }
    // The answer follows the task's rule: the candidate noun the pointer weighs most, never the pronoun or an unknown word.
    const verdict = corefVerdict(tokens, unknownAt, p, reading, knows);
    result.verdict = verdict;
    if (reading.pronoun !== null) result.pronoun = reading.pronoun;
    if (verdict.referent !== null) result.referent = { index: verdict.referent, token: tokens[verdict.referent], p: verdict.p };
    return result;
  } finally {
    model.train(wasTraining);
    input.dispose();
    tf.dispose([out.hidden, ...(out.pointer ? [out.pointer] : []), ...out.attention!, ...out.qkv!.flatMap((l) => [l.q, l.k, l.v])]);
  }
}
