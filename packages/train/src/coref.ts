// The coref task: the explainer's "The animal didn't cross the street because
// it was too tired." Which word does "it" refer to? The adjective decides:
// an animal is tired, a street is wide. Sentences come from this grammar
// (brackets: optional, each present half the time; every choice uniform):
//
//   [Opener] The [Neutral] SUBJ VERB the [Place] OBJ CONN it was DEG ADJ.
//
// ADJ is one of 22 adjectives, 11 of the subject's kind (tired, scared, ...)
// and 11 of the object's (wide, busy, ...), so "it" is the subject half the
// time. The answer is a position: the index of SUBJ or OBJ among the
// sentence's words (the tokens of a WordTokenizer).
//
// Validation sentences are kept out of training by their (SUBJ, OBJ, ADJ)
// triple: about 1 in 10 triples, and every sentence about an animal and a
// street (the explainer's own two sentences, "tired" and "wide", among them),
// are validation only. A model that scores on them has learned the rule, not
// the sentences.
import type { Encoder } from '@tx/blocks';
import { tf, type Rng } from '@tx/core';
import { WordTokenizer } from '@tx/tokenizer';
import { pointerBatch, type PointerBatch } from './data.js';
import { pointerInputs } from './losses.js';

/** The word lists the coref task's sentences are made of. */
export const COREF_GRAMMAR = {
  opener: ['Yesterday,', 'That morning,', 'In the end,'],
  neutral: ['big', 'little', 'brown', 'young'],
  subject: ['animal', 'dog', 'cat', 'horse', 'cow', 'fox', 'child', 'boy', 'girl', 'man', 'woman'],
  verb: ["didn't cross", 'did not cross', "couldn't cross", "wouldn't cross", 'refused to cross', "didn't jump over", "couldn't swim across", "wouldn't walk across"],
  place: ['old', 'main', 'new'],
  object: ['street', 'road', 'river', 'bridge', 'field', 'square', 'track', 'stream', 'highway'],
  connective: ['because', 'since', 'as'],
  degree: ['too', 'so', 'very'],
  /** The referent is SUBJ. */
  subjectAdjective: ['tired', 'scared', 'weak', 'sleepy', 'slow', 'afraid', 'lazy', 'hungry', 'exhausted', 'nervous', 'sick'],
  /** The referent is OBJ. */
  objectAdjective: ['wide', 'busy', 'icy', 'crowded', 'dangerous', 'deep', 'long', 'muddy', 'flooded', 'noisy', 'steep'],
} as const;

/** The pronouns the task asks about. */
export const PRONOUNS: readonly string[] = ['it'];

/** The longest sentence, in words: "In the end, the little dog couldn't swim across the old road as it was so icy." is 19. */
export const COREF_MAX_LENGTH = 19;

/** The special tokens of the coref vocabulary, ids 0 and 1. */
export const COREF_SPECIALS = { pad: '<pad>', unk: '<unk>' } as const;

/** One coref sentence: its words, where the pronoun is, and which word it refers to. */
export interface CorefExample {
  text: string;
  /** The tokens, as a WordTokenizer splits the text (lowercased). */
  words: string[];
  /** The index of "it" in words. */
  pronoun: number;
  /** The index of the word "it" refers to. */
  referent: number;
  refersTo: 'subject' | 'object';
}

const G = COREF_GRAMMAR;
const ADJECTIVES = [...G.subjectAdjective, ...G.objectAdjective];
const splitter = new WordTokenizer([]);
const words = (s: string) => splitter.split(s).map((p) => p.word);

/** murmur3's 32-bit finaliser: a fixed, well-mixed hash of a triple's index. */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether sentences with this (SUBJ, OBJ, ADJ) are validation only. */
export function isHeldOut(subject: string, object: string, adjective: string): boolean {
  if (subject === 'animal' && object === 'street') return true;
  const [s, o, a] = [G.subject.indexOf(subject as never), G.object.indexOf(object as never), ADJECTIVES.indexOf(adjective as never)];
  return mix((s * G.object.length + o) * ADJECTIVES.length + a) % 10 === 0;
}

/** Every (SUBJ, OBJ, ADJ) triple of a split, in a fixed order. */
const TRIPLES: Record<'train' | 'val', Array<[string, string, string]>> = { train: [], val: [] };
for (const s of G.subject) for (const o of G.object) for (const a of ADJECTIVES) TRIPLES[isHeldOut(s, o, a) ? 'val' : 'train'].push([s, o, a]);

/** One sentence of a split, every choice uniform (a triple of the split, then the other parts). */
export function corefSentence(rng: Rng, split: 'train' | 'val' = 'train'): CorefExample {
  const pick = <T>(options: readonly T[]): T => options[rng.int(options.length)];
  const maybe = <T>(options: readonly T[]): T | null => (rng.int(2) === 0 ? null : pick(options));
  const [subject, object, adjective] = pick(TRIPLES[split]);
  const opener = maybe(G.opener);
  const neutral = maybe(G.neutral);
  const verb = pick(G.verb);
  const place = maybe(G.place);
  const connective = pick(G.connective);
  const degree = pick(G.degree);
  const parts = [opener, opener ? 'the' : 'The', neutral, subject, verb, 'the', place, object, connective, 'it', 'was', degree, adjective].filter((p): p is string => p !== null);
  const text = `${parts.join(' ')}.`;
  const tokens = words(text);
  const refersTo = (G.subjectAdjective as readonly string[]).includes(adjective) ? 'subject' : 'object';
  return { text, words: tokens, pronoun: tokens.indexOf('it'), referent: tokens.indexOf(refersTo === 'subject' ? subject : object), refersTo };
}

/** `count` random coref sentences, from the train or the validation split of the grammar's triples. */
export function makeCorefExamples(count: number, rng: Rng, split: 'train' | 'val' = 'train'): CorefExample[] {
  return Array.from({ length: count }, () => corefSentence(rng, split));
}

/** How many (SUBJ, OBJ, ADJ) triples each split has (of 11 x 9 x 22 = 2178). */
export function corefTriples(split: 'train' | 'val'): number {
  return TRIPLES[split].length;
}

/**
 * The task's vocabulary: every word of the grammar (a corpus of each choice
 * once), most frequent first, after <pad> (id 0) and <unk> (id 1).
 */
export function corefTokenizer(): WordTokenizer {
  const corpus = [...Object.values(G).flat(), 'The the it was.'].join(' ');
  return WordTokenizer.fromText(corpus, { specialTokens: [COREF_SPECIALS.pad, COREF_SPECIALS.unk], pad: COREF_SPECIALS.pad, unk: COREF_SPECIALS.unk });
}

/** The positions of the task's pronouns among `tokens`. */
export function findPronouns(tokens: readonly string[]): number[] {
  return tokens.flatMap((t, i) => (PRONOUNS.includes(t) ? [i] : []));
}

/** How a text reads to the coref task: what the model may answer, and whether the sentence is one it was trained on. */
export interface CorefReading {
  /** The index of the text's one "it"; null when it has none, or more than one. */
  pronoun: number | null;
  /**
   * The words "it" may refer to: the indices of the grammar's nouns (its
   * subjects and objects), never the pronoun itself. A model's answer is the
   * candidate its pointer likes best; with no candidate there is no answer.
   */
  candidates: number[];
  /** Whether the tokens are a sentence of the grammar (held-out triples included); if not, any answer is "outside what this model was trained on". */
  fitsGrammar: boolean;
}

const NOUNS: readonly string[] = [...G.subject, ...G.object];

/** The grammar's sentence as slots of token sequences; `optional` slots may be left out. */
const SLOTS: Array<{ options: string[][]; optional?: boolean }> = [
  { options: G.opener.map(words), optional: true },
  { options: [['the']] },
  { options: G.neutral.map(words), optional: true },
  { options: G.subject.map(words) },
  { options: G.verb.map(words) },
  { options: [['the']] },
  { options: G.place.map(words), optional: true },
  { options: G.object.map(words) },
  { options: G.connective.map(words) },
  { options: [['it']] },
  { options: [['was']] },
  { options: G.degree.map(words) },
  { options: ADJECTIVES.map(words) },
  { options: [['.']] },
];

/** Whether tokens[from..] matches SLOTS[slot..] to the end (backtracking over optional slots; the grammar is 14 slots). */
function matches(tokens: readonly string[], from: number, slot: number): boolean {
  if (slot === SLOTS.length) return from === tokens.length;
  const { options, optional } = SLOTS[slot];
  for (const option of options) {
    if (option.every((w, k) => tokens[from + k] === w) && matches(tokens, from + option.length, slot + 1)) return true;
  }
  return optional === true && matches(tokens, from, slot + 1);
}

/**
 * How the coref task reads `tokens` (a text split as the task's
 * WordTokenizer splits it; case is ignored): where "it" is, which words it
 * may refer to (the grammar's nouns), and whether the sentence fits the
 * grammar the model was trained on. `tx inspect` and the demo site answer by
 * this one rule: the pointer lands only on a candidate, and a sentence that
 * does not fit is flagged.
 */
export function corefReading(tokens: readonly string[]): CorefReading {
  const lower = tokens.map((t) => t.toLowerCase());
  const pronouns = findPronouns(lower);
  const candidates = lower.flatMap((t, i) => (NOUNS.includes(t) ? [i] : []));
  return { pronoun: pronouns.length === 1 ? pronouns[0] : null, candidates, fitsGrammar: matches(lower, 0, 0) };
}

/** Examples as a padded batch: ids, the pronoun (query) and the referent (target) of each. */
export function corefBatch(tokenizer: WordTokenizer, examples: CorefExample[]): PointerBatch {
  const padId = tokenizer.specialTokens[COREF_SPECIALS.pad];
  if (padId === undefined) throw new TypeError(`expected a tokenizer with ${COREF_SPECIALS.pad}, found special tokens ${JSON.stringify(tokenizer.specialTokens)}`);
  return pointerBatch(examples.map((e) => ({ ids: tokenizer.encode(e.text), query: e.pronoun, target: e.referent })), { padId });
}

/** How well a coref model points: the pointer's accuracy, and its attention head's. */
export interface CorefScore {
  examples: number;
  /** How often the pointer's most likely position is the referent. */
  accuracy: number;
  /**
   * How often the pointer head's attention from the pronoun is largest on the
   * referent among all the other tokens (read from the attention probabilities).
   */
  headAccuracy: number;
  /** The mean probability the pointer gives the referent. */
  meanProbability: number;
}

/** Score an encoder on examples, in batches, with dropout off. */
export async function evaluateCoref(model: Encoder, tokenizer: WordTokenizer, examples: CorefExample[], { batchSize = 250 } = {}): Promise<CorefScore> {
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let headCorrect = 0;
  let probability = 0;
  try {
    for (let start = 0; start < examples.length; start += batchSize) {
      const b = corefBatch(tokenizer, examples.slice(start, start + batchSize));
      // The pointer's softmax is the pointer head's attention row from the pronoun (encoder.ts): no attention is read.
      const probs = tf.tidy(() => {
        const { ids, options } = pointerInputs(b);
        return tf.softmax(model.forward(ids, options).pointer!);
      });
      const p = await probs.data();
      probs.dispose();
      const T = b.length;
      for (let i = 0; i < b.batchSize; i++) {
        const q = b.query[i];
        const target = b.target[i];
        const row = p.subarray(i * T, (i + 1) * T);
        probability += row[target];
        if (argmax(row, -1) === target) correct++;
        if (argmax(row, q) === target) headCorrect++; // the brightest word other than the pronoun itself
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const n = Math.max(examples.length, 1);
  return { examples: examples.length, accuracy: correct / n, headAccuracy: headCorrect / n, meanProbability: probability / n };
}

function argmax(values: ArrayLike<number>, skip: number): number {
  let best = -1;
  for (let j = 0; j < values.length; j++) if (j !== skip && (best < 0 || values[j] > values[best])) best = j;
  return best;
}
