// Running the coref encoder (@tx/blocks' Encoder over @tx/tokenizer's words)
// for the views: `tx inspect` in the page. One forward pass gives every
// layer's attention, Q, K and V, and, from the pronoun, the pointer: the
// coref head's attention row, whose largest weight is the answer.
import type { Encoder } from '@tx/blocks';
import { tf } from '@tx/core';
import type { WordTokenizer } from '@tx/tokenizer';
import { corefReading } from '@tx/train';
import { corefVerdict, winogradNote } from '../lib/honesty.js';
import type { Inspection } from './run.js';

/** One layer's attention projections and what goes in and out of them, for x·W_Q and Concat·W_O in the arithmetic view. */
export interface LayerProjection {
  /** The attention's input, ln_1(x): [T][C]. */
  x: number[][];
  /** c_attn: W_Q | W_K | W_V side by side, [C][3C] ([in, out]); its bias [3C] or null. */
  wqkv: number[][];
  bqkv: number[] | null;
  /** c_proj = W_O: [C][C]; its bias [C] or null. */
  wo: number[][];
  bo: number[] | null;
  /** The attention sublayer's output (Concat(heads)·W_O + b) as the model computes it: [T][C]. */
  out: number[][];
}

export interface CorefInspection extends Inspection {
  /** Per layer: the attention's input, weights and output. */
  projections: LayerProjection[];
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
    const projections = await readProjections(model, input);
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

/**
 * Each layer's ln_1(x), c_attn, c_proj and attention output, computed with
 * the model's own modules block by block (the encoder's forward pass in
 * steps), so the arithmetic view can show x·W_Q and Concat·W_O with the
 * numbers the model used. ids: int32 [1, T].
 */
async function readProjections(model: Encoder, ids: tf.Tensor): Promise<LayerProjection[]> {
  // The sinusoidal input layer is private to Encoder; it is the same step the forward pass takes first.
  const input = (model as unknown as { input: { forward(t: tf.Tensor): tf.Tensor } }).input;
  const tensors = tf.tidy(() => {
    let x = input.forward(model.embed.forward(ids));
    return [...model.h].map((block) => {
      const xn = block.norm === 'pre' ? block.ln_1.forward(x) : x;
      const out = block.attn.forward(xn).output;
      x = block.forward(x).y;
      return { xn, out, x: tf.keep(x) };
    });
  });
  const first = async (t: tf.Tensor) => ((await t.array()) as number[][][])[0];
  const layers: LayerProjection[] = [];
  for (const [i, block] of [...model.h].entries()) {
    const { c_attn, c_proj } = block.attn;
    layers.push({
      x: await first(tensors[i].xn), out: await first(tensors[i].out),
      wqkv: (await c_attn.weight.array()) as number[][], bqkv: c_attn.bias ? ((await c_attn.bias.array()) as number[]) : null,
      wo: (await c_proj.weight.array()) as number[][], bo: c_proj.bias ? ((await c_proj.bias.array()) as number[]) : null,
    });
  }
  tf.dispose(tensors.flatMap((t) => [t.xn, t.out, t.x]));
  return layers;
}
