// Sequence-to-sequence toy tasks, generated in code (nothing to download):
//   dates:   "Friday, November 27th 2026" -> "2026-11-27"
//   copy:    "k3x9a" -> "k3x9a"          (the Annotated Transformer's first task)
//   reverse: "k3x9a" -> "a9x3k"
// Every example comes from a seeded Rng, so a dataset is the same on every run.
import { ValueError, type Rng } from '@tx/core';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import { seq2seqBatch, type Seq2SeqBatch } from './data.js';

/** One seq2seq example: a source text and its target. */
export interface Example {
  source: string;
  target: string;
}

/** The built-in seq2seq tasks: rewriting dates as ISO 8601, copying, reversing. */
export type Seq2SeqTask = 'dates' | 'copy' | 'reverse';

/** The special tokens of every seq2seq vocabulary, in this order. */
export const SEQ2SEQ_SPECIALS = ['<pad>', '<bos>', '<eos>'] as const;

/**
 * Every character a task's sources and targets can contain (for dates also
 * the rest of the ASCII letters, so a user's own spelling still encodes):
 * with SEQ2SEQ_SPECIALS, a task's character vocabulary.
 */
export function taskAlphabet(task: Seq2SeqTask): string {
  const symbols = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return task === 'dates' ? `${symbols}ABCDEFGHIJKLMNOPQRSTUVWXYZ ,./-` : symbols;
}

/** A task's vocabulary: its alphabet, one character a token, plus SEQ2SEQ_SPECIALS. */
export function taskTokenizer(task: Seq2SeqTask): CharTokenizer {
  return CharTokenizer.fromText(taskAlphabet(task), { specialTokens: [...SEQ2SEQ_SPECIALS] });
}

/** The ids of '<pad>', '<bos>' and '<eos>' in a seq2seq tokenizer. */
export function specialsOf(tokenizer: Tokenizer): { pad: number; bos: number; eos: number } {
  const t = tokenizer.specialTokens;
  const s = { pad: t['<pad>'], bos: t['<bos>'], eos: t['<eos>'] };
  if (![s.pad, s.bos, s.eos].every((id) => Number.isInteger(id))) throw new TypeError(`expected a tokenizer with ${SEQ2SEQ_SPECIALS.join(', ')}, found special tokens ${JSON.stringify(t)}`);
  return s;
}

/** Examples as a padded batch of ids, with the tokenizer's '<pad>', '<bos>' and '<eos>'. */
export function examplesBatch(tokenizer: Tokenizer, examples: Example[]): Seq2SeqBatch {
  const { pad, bos, eos } = specialsOf(tokenizer);
  return seq2seqBatch(examples.map((e) => [tokenizer.encode(e.source), tokenizer.encode(e.target)]), { padId: pad, bosId: bos, eosId: eos });
}

/** The longest target a task produces, in characters ("2026-11-27" is 10). */
export function maxTargetLength(task: Seq2SeqTask): number {
  return task === 'dates' ? 10 : 12;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function ordinal(d: number): string {
  const suffix = d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th';
  return `${d}${suffix}`;
}

/** The human formats a date may be written in. US order for slashes, day first for dots: never ambiguous. */
export const DATE_FORMATS: Array<(y: number, m: number, d: number, weekday: number) => string> = [
  (y, m, d) => `${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`, // 27 Nov 2026
  (y, m, d) => `${m}/${d}/${pad(y % 100)}`, // 11/27/26
  (y, m, d, w) => `${WEEKDAYS[w]}, ${MONTHS[m - 1]} ${ordinal(d)} ${y}`, // Friday, November 27th 2026
  (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`, // November 27, 2026
  (y, m, d) => `${pad(d)}.${pad(m)}.${y}`, // 27.11.2026
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3)} ${d} ${y}`, // Nov 27 2026
  (y, m, d) => `the ${ordinal(d)} of ${MONTHS[m - 1]}, ${y}`, // the 27th of November, 2026
  (y, m, d, w) => `${WEEKDAYS[w].slice(0, 3).toLowerCase()} ${d} ${MONTHS[m - 1].slice(0, 3).toLowerCase()} ${y}`, // fri 27 nov 2026
  (y, m, d) => `${pad(m)}/${pad(d)}/${y}`, // 11/27/2026
  (y, m, d) => `${d} ${MONTHS[m - 1].toUpperCase()} ${y}`, // 27 NOVEMBER 2026
];

/** A random date in 1950-2049 (two-digit years in the formats mean 20xx for 00-49, 19xx otherwise). */
export function randomDate(rng: Rng): Example {
  const start = Date.UTC(1950, 0, 1);
  const end = Date.UTC(2049, 11, 31);
  const day = new Date(start + rng.int(Math.round((end - start) / 86_400_000) + 1) * 86_400_000);
  const [y, m, d, w] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), day.getUTCDay()];
  const format = DATE_FORMATS[rng.int(DATE_FORMATS.length)];
  return { source: format(y, m, d, w), target: `${y}-${pad(m)}-${pad(d)}` };
}

const SYMBOLS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSymbols(rng: Rng, task: 'copy' | 'reverse', maxLength = 12): Example {
  const length = 1 + rng.int(maxLength);
  const source = Array.from({ length }, () => SYMBOLS[rng.int(SYMBOLS.length)]).join('');
  return { source, target: task === 'copy' ? source : [...source].reverse().join('') };
}

/** `count` random examples of a seq2seq task, drawn with `rng`. */
export function makeExamples(task: Seq2SeqTask, count: number, rng: Rng): Example[] {
  return Array.from({ length: count }, () => (task === 'dates' ? randomDate(rng) : randomSymbols(rng, task)));
}

/** Fraction of predictions equal to their target, character for character. */
export function exactMatch(predictions: string[], examples: Example[]): number {
  if (predictions.length !== examples.length) throw new ValueError(`${predictions.length} predictions for ${examples.length} examples`);
  return predictions.filter((p, i) => p === examples[i].target).length / Math.max(examples.length, 1);
}
