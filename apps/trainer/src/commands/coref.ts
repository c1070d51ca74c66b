// `tx eval` and `tx inspect` for a coref checkpoint (an encoder with a pointer):
//   eval     accuracy on 1,000 fresh validation sentences (held-out triples),
//            and how often the pointer head's attention from "it" is largest
//            on the referent among the other tokens
//   inspect  {tokens, ids, attention[layer][head][query][key], pronoun,
//            candidates, fitsGrammar, referent: {index, token, p},
//            corefHead: [layer, head]}; the answer is one of the text's
//            nouns (never "it"), and a sentence outside the grammar says so
import type { Encoder } from '@tx/blocks';
import { Rng, TxError } from '@tx/core';
import { PRONOUNS, corefReading, evaluateCoref, findPronouns, makeCorefExamples } from '@tx/train';
import { COREF_NOUNS, answer, wordTokenizer } from '../coref-train.js';
import type { OpenedCheckpoint } from '../model-io.js';
import { UsageError, type Io } from '../args.js';

/** Fresh sentences for `tx eval`: validation triples, from a seed training never used. */
export const EVAL_SENTENCES = 1000;

export async function corefEval({ config, model, tokenizer, raw }: OpenedCheckpoint, values: Record<string, unknown>, io: Io): Promise<void> {
  if (values.data !== undefined) throw new UsageError('--data is for language models; the coref task makes its own test sentences');
  const words = wordTokenizer(tokenizer, raw.dir);
  const examples = makeCorefExamples(EVAL_SENTENCES, new Rng(config.settings.seed + 99), 'val');
  const score = await evaluateCoref(model as Encoder, words, examples);
  const result = { task: config.task, examples: score.examples, accuracy: score.accuracy, headAccuracy: score.headAccuracy, meanProbability: score.meanProbability, corefHead: (model as Encoder).config.pointerHead };
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const [layer, head] = result.corefHead;
    io.stdout.write(`task coref  examples ${score.examples}  accuracy ${score.accuracy.toFixed(4)}  headAccuracy ${score.headAccuracy.toFixed(4)}  meanProbability ${score.meanProbability.toFixed(4)}\n`);
    io.stdout.write(`(headAccuracy: how often layer ${layer}, head ${head}'s attention from "it" is largest on the referent among the other tokens)\n`);
  }
}

/** What inspect says of a sentence that is not of the coref grammar: the answer is a guess. */
export const OUTSIDE = 'warning: this sentence is outside what this model was trained on (the coref grammar: "[Opener] The [Neutral] SUBJ VERB the [Place] OBJ CONN it was DEG ADJ."), so its answer is a guess';

export async function corefInspect({ model, tokenizer, raw }: OpenedCheckpoint, text: string, values: Record<string, unknown>, io: Io): Promise<void> {
  for (const flag of ['target', 'layers', 'heads']) if (values[flag] !== undefined) throw new UsageError(`--${flag} is not for a coref model: it shows every layer and head of the sentence`);
  const words = wordTokenizer(tokenizer, raw.dir);
  const encoder = model as Encoder;
  const unknown = words.unknownWords(text);
  if (unknown.length > 0) {
    const named = unknown.slice(0, 5).map((w) => JSON.stringify(w));
    const list = named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named.at(-1)}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''}` : named[0];
    throw new UsageError(`--text: ${list} ${unknown.length > 1 ? 'are' : 'is'} not in the model's vocabulary of ${words.words.length} words (the coref grammar's)`);
  }
  const tokens = words.split(text).map((p) => p.word);
  if (tokens.length === 0) throw new UsageError('--text has no words');
  const pronouns = findPronouns(tokens);
  const names = PRONOUNS.map((p) => `"${p}"`).join(', ');
  if (pronouns.length === 0) throw new UsageError(`--text has no pronoun (${names}): the coref model says which word "it" refers to`);
  if (pronouns.length > 1) throw new UsageError(`--text has ${pronouns.length} pronouns (${names} at words ${pronouns.join(', ')}); give a text with one`);
  if (corefReading(tokens).candidates.length === 0) throw new UsageError(`--text has no noun "it" could refer to; the model answers with one of its ${COREF_NOUNS.length} nouns (${COREF_NOUNS.join(', ')})`);
  if (tokens.length > encoder.config.blockSize) throw new TxError(`--text is ${tokens.length} words, longer than the model's context (${encoder.config.blockSize})`);
  const a = await answer(encoder, words, text, { pronoun: pronouns[0], attention: true });
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  const result = {
    tokens: a.tokens,
    ids: a.ids,
    attention: a.attention!.map((layer) => layer.map((head) => head.map((row) => row.map(round)))),
    pronoun: a.pronoun,
    candidates: a.candidates,
    fitsGrammar: a.fitsGrammar,
    referent: { index: a.referent.index, token: a.referent.token, p: round(a.referent.p) },
    corefHead: encoder.config.pointerHead,
  };
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const [layer, head] = result.corefHead;
    io.stdout.write(`tokens: ${JSON.stringify(result.tokens)}\n`);
    io.stdout.write(`it = ${a.referent.token} (word ${a.referent.index}, p ${a.referent.p.toFixed(4)}): layer ${layer}, head ${head}'s attention from "it" (word ${a.pronoun})\n`);
    if (!a.fitsGrammar) io.stdout.write(`${OUTSIDE}\n`);
    io.stdout.write(`attention: ${result.attention.length} layers x ${result.attention[0].length} heads (use --json for the weights)\n`);
  }
}
