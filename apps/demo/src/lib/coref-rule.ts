// The coref task's reading of a text, the rule `tx inspect` answers by: "it"
// points only at a candidate (the grammar's nouns, never the pronoun), and a
// sentence outside the trained grammar is flagged. The rule is @tx/train's
// (corefReading, beside the grammar in packages/train/src/coref.ts); until
// that export is built, this file is its copy, with the same signature, so
// that switching over is one import.
import { COREF_GRAMMAR as G, findPronouns } from '@tx/train';
import { WordTokenizer } from '@tx/tokenizer';

/** How a text reads to the coref task (the shape of @tx/train's CorefReading). */
export interface CorefReading {
  /** The index of the text's one "it"; null when it has none, or more than one. */
  pronoun: number | null;
  /** The indices of the grammar's nouns: the words "it" may refer to. */
  candidates: number[];
  /** Whether the tokens are a sentence of the grammar the model was trained on. */
  fitsGrammar: boolean;
}

const splitter = new WordTokenizer([]);
const words = (s: string) => splitter.split(s).map((p) => p.word);
const NOUNS: readonly string[] = [...G.subject, ...G.object];
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
  { options: [...G.subjectAdjective, ...G.objectAdjective].map(words) },
  { options: [['.']] },
];

function matches(tokens: readonly string[], from: number, slot: number): boolean {
  if (slot === SLOTS.length) return from === tokens.length;
  const { options, optional } = SLOTS[slot];
  for (const option of options) {
    if (option.every((w, k) => tokens[from + k] === w) && matches(tokens, from + option.length, slot + 1)) return true;
  }
  return optional === true && matches(tokens, from, slot + 1);
}

/** The pronoun, the candidates "it" may refer to, and whether the sentence fits the grammar. */
export function corefReading(tokens: readonly string[]): CorefReading {
  const lower = tokens.map((t) => t.toLowerCase());
  const pronouns = findPronouns(lower);
  const candidates = lower.flatMap((t, i) => (NOUNS.includes(t) ? [i] : []));
  return { pronoun: pronouns.length === 1 ? pronouns[0] : null, candidates, fitsGrammar: matches(lower, 0, 0) };
}
