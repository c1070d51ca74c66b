// `tx train --task coref`: "The animal didn't cross the street because it was
// too tired." An encoder-only Transformer (@tx/blocks' Encoder, words as
// tokens) learns which word "it" refers to. Its pointer is one of its
// attention heads (the model's pointerHead, stored in the checkpoint): the
// cross-entropy of that head's attention from "it" against the referent's
// position is the loss, so the head that answers is the head that shines on
// the referent. Evaluation reports accuracy on validation sentences, whose
// (subject, object, adjective) triples training never sees.
import { Encoder, encoderConfig, type EncoderConfig } from '@tx/blocks';
import { Rng, TxError, tf } from '@tx/core';
import { WordTokenizer, type Tokenizer } from '@tx/tokenizer';
import { COREF_GRAMMAR, COREF_MAX_LENGTH, corefBatch, corefReading, corefTokenizer, evaluateCoref, makeCorefExamples, pointerLoss, type PointerBatch } from '@tx/train';
import { checkMemory, memoryBudget } from './budget.js';
import { emitStart, finish } from './lm.js';
import type { OpenedCheckpoint } from './model-io.js';
import { runSession, type Output, type SessionResult } from './session.js';
import type { ResolvedSettings } from './settings.js';

/** The explainer's sentence and its twin: "it" is the animal, then the street. */
export const EXPLAINER_SENTENCES = ["The animal didn't cross the street because it was too tired.", "The animal didn't cross the street because it was too wide."];

export async function trainCoref(s: ResolvedSettings, output: Output, resumed?: OpenedCheckpoint, { overwrite = false } = {}): Promise<SessionResult> {
  const tokenizer = resumed ? wordTokenizer(resumed.tokenizer, resumed.raw.dir) : corefTokenizer();
  const config = encoderConfig(tokenizer.vocabSize, { nLayer: s.nLayer, nHead: s.nHead, dModel: s.nEmbd, blockSize: s.blockSize, dropout: s.dropout });
  const spec = { kind: 'encoder' as const, config: resumed ? (resumed.config.model.config as EncoderConfig) : config };
  checkMemory('training this model', spec, { batchSize: s.batchSize, training: true, length: COREF_MAX_LENGTH }, memoryBudget(tf.getBackend()));
  const model = (resumed?.model as Encoder | undefined) ?? new Encoder(config, { rng: new Rng(s.seed) });
  // A fixed set of validation sentences (held-out triples); training sentences are drawn fresh from the batch rng.
  const valExamples = makeCorefExamples(256, new Rng(s.seed + 7), 'val');

  emitStart(output, s, model.numParameters(), tokenizer.vocabSize);
  const result = await runSession<PointerBatch>({
    settings: s,
    model,
    spec,
    tokenizer,
    loss: (b) => pointerLoss(model, b),
    sample: (split, rng) => corefBatch(tokenizer, split === 'val' ? pick(valExamples, s.batchSize, rng) : makeCorefExamples(s.batchSize, rng, 'train')),
    tokensPerBatch: (b) => b.batchSize * b.length,
    output,
    resumed,
    overwrite,
    evalExtras: async () => {
      const score = await evaluateCoref(model, tokenizer, valExamples);
      return { accuracy: score.accuracy, headAccuracy: score.headAccuracy };
    },
  });
  if (!result.aborted) {
    for (const text of EXPLAINER_SENTENCES) {
      const a = await answer(model, tokenizer, text);
      if (output.json) output.write(`${JSON.stringify({ event: 'sample', text, pronoun: a.pronoun, referent: a.referent })}\n`);
      else output.write(`  ${text.padEnd(64)} it = ${a.referent.token} (${(100 * a.referent.p).toFixed(1)}%)\n`);
    }
    if (!output.json) output.write(`  the pointer is layer ${model.config.pointerHead[0]}, head ${model.config.pointerHead[1]}: its attention from "it" is the answer\n`);
  }
  finish(output, s.out, result.valLoss, result.aborted);
  model.dispose();
  return result;
}

function pick<T>(items: T[], n: number, rng: Rng): T[] {
  return Array.from({ length: n }, () => items[rng.int(items.length)]);
}

/** A checkpoint's tokenizer, which a coref model needs to be a word tokenizer with <pad>. */
export function wordTokenizer(tokenizer: Tokenizer, where: string): WordTokenizer {
  if (!(tokenizer instanceof WordTokenizer) || tokenizer.pad === null) {
    throw new TxError(`${where}/tokenizer.json: a coref model needs a word tokenizer with a padding token, found kind "${tokenizer.kind}"`);
  }
  return tokenizer;
}

export interface Answer {
  tokens: string[];
  ids: number[];
  pronoun: number;
  /** The words the answer may be: the grammar's nouns in the text (@tx/train's corefReading), never the pronoun. */
  candidates: number[];
  /** Whether the text is a sentence of the coref grammar; if not, the answer is outside what the model was trained on. */
  fitsGrammar: boolean;
  /** The candidate the pointer likes best, and the pointer's probability on it (of all the words, as the model gives it). */
  referent: { index: number; token: string; p: number };
  /** [layer][head][query][key], when asked for. */
  attention?: number[][][][];
}

/** The grammar's nouns, for messages: "animal, dog, ..., highway". */
export const COREF_NOUNS: readonly string[] = [...COREF_GRAMMAR.subject, ...COREF_GRAMMAR.object];

/**
 * What the model answers for one text: the pronoun at `pronoun` (default: the
 * text's only "it") refers to the candidate noun the pointer likes best, with
 * the pointer's probability on it (the pointer head's attention weight). The
 * pointer may put weight on any word, "it" itself included, but only a noun
 * of the grammar can be the answer (@tx/train's corefReading, the rule the
 * site uses too); a text without one has no answer.
 */
export async function answer(model: Encoder, tokenizer: WordTokenizer, text: string, { pronoun, attention = false }: { pronoun?: number; attention?: boolean } = {}): Promise<Answer> {
  const ids = tokenizer.encode(text);
  const tokens = ids.map((id) => tokenizer.decode([id]));
  const reading = corefReading(tokens);
  const at = pronoun ?? reading.pronoun ?? -1;
  if (at < 0 || at >= ids.length) throw new TxError(`"${text}": no pronoun to resolve (no single "it", and none given)`);
  const candidates = reading.candidates.filter((i) => i !== at);
  if (candidates.length === 0) throw new TxError(`"${text}": no noun "it" could refer to (the model's nouns: ${COREF_NOUNS.join(', ')})`);
  const wasTraining = model.training;
  model.eval(); // answers are read without dropout, whatever mode training left the model in
  let read: { pointer: tf.Tensor; attention: tf.Tensor[] };
  try {
    read = tf.tidy(() => {
      const out = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { query: tf.tensor1d([at], 'int32'), returnAttention: attention });
      return { pointer: tf.softmax(out.pointer!), attention: out.attention ?? [] };
    });
  } finally {
    model.train(wasTraining);
  }
  const { pointer, attention: att } = read;
  const p = Array.from(await pointer.data());
  const weights = await Promise.all(att.map(async (a) => ((await a.array()) as number[][][][])[0]));
  tf.dispose([pointer, ...att]);
  const index = candidates.reduce((best, i) => (p[i] > p[best] ? i : best)); // the first of equals, in word order
  return { tokens, ids, pronoun: at, candidates, fitsGrammar: reading.fitsGrammar, referent: { index, token: tokens[index], p: p[index] }, ...(attention ? { attention: weights } : {}) };
}
