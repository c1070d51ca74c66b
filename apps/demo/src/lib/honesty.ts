// What the coref model may honestly say about a text. It knows 78 words and
// one sentence pattern ("the X didn't cross the Y because it was too Z"), so:
// a word it has never seen keeps its text and is marked unknown (not <unk>);
// its answer is the candidate noun its pointer likes best (@tx/train's
// corefReading, the rule `tx inspect` follows), never the pronoun or an unknown word; a percentage is
// the pointer's weight, qualified by what the model knows; a sentence outside
// the pattern is flagged; and a pointer whose light falls on an unknown word
// is said to mean nothing. Pure functions (tested); views/attention.ts shows them.
import type { CorefReading } from '@tx/train';

/** The model's answer to "who is it?", with everything that qualifies it. */
export interface CorefVerdict {
  /** The pronoun's index, or null (none, or several). */
  pronoun: number | null;
  /** The candidate the pointer weighs most, or null when there is no candidate. */
  referent: number | null;
  /** The pointer's weight on the referent (0 when there is none). */
  p: number;
  /** The word other than the pronoun the pointer weighs most, whatever it is (an unknown word, a verb). */
  brightest: number | null;
  /** The candidates and their weights, best first. */
  candidates: Array<{ index: number; p: number }>;
  fitsGrammar: boolean;
  /** The big line: "it = the animal, 100%", or "it = ?". */
  headline: string;
  /** The lines that qualify it, in order. */
  notes: string[];
}

/** What the model knows, for the qualifiers: its vocabulary size (78 words for the built-in coref model). */
export interface Knowledge {
  words: number;
}

const pct = (p: number) => `${Math.round(100 * p)}%`;

/**
 * The verdict on a text: `tokens` as typed (lowercased words), `unknown[i]`
 * whether the model has never seen token i, `pointer` the pointer's weights
 * over the tokens (the coref head's row from the pronoun, summing to 1).
 */
export function corefVerdict(tokens: readonly string[], unknown: readonly boolean[], pointer: ArrayLike<number> | null, reading: CorefReading, knows: Knowledge): CorefVerdict {
  const qualifier = `within its ${knows.words} words: it knows ${knows.words} words and one sentence pattern`;
  const base = { pronoun: reading.pronoun, referent: null, p: 0, brightest: null, candidates: [], fitsGrammar: reading.fitsGrammar };
  if (reading.pronoun === null || !pointer) {
    const several = tokens.filter((t) => t === 'it').length > 1;
    return { ...base, headline: several ? 'Several “it”s' : 'No “it” here', notes: [several ? 'The model answers for a sentence with one “it”.' : 'The model answers one question: what “it” refers to. Write a sentence with “it”.'] };
  }
  const pronoun = reading.pronoun;
  const candidates = reading.candidates.filter((i) => i !== pronoun).map((index) => ({ index, p: pointer[index] })).sort((a, b) => b.p - a.p);
  let brightest: number | null = null;
  for (let j = 0; j < tokens.length; j++) if (j !== pronoun && (brightest === null || pointer[j] > pointer[brightest])) brightest = j;
  const notes: string[] = [];
  const it = tokens[pronoun];
  const meaningless = brightest !== null && unknown[brightest]
    ? `Its light falls most on “${tokens[brightest]}”, a word unknown to this model (${pct(pointer[brightest])}): that means nothing.`
    : null;
  if (!reading.fitsGrammar) notes.push('This sentence is outside what this model was trained on: whatever it answers is a guess.');
  if (candidates.length === 0) {
    notes.push(`No word here is a noun this model knows, so “${it}” has nothing it could refer to.`);
    if (meaningless) notes.push(meaningless);
    return { ...base, brightest, headline: `${it} = ?`, notes };
  }
  const best = candidates[0];
  notes.unshift(`${pct(best.p)} is the pointer's weight, ${qualifier}.`);
  if (meaningless) notes.push(meaningless);
  return { ...base, referent: best.index, p: best.p, brightest, candidates, headline: `${it} = the ${tokens[best.index]}, ${pct(best.p)}`, notes };
}

/** The text alternative of the picture: "it: animal 100%, street 0%" (the candidates), or the headline. */
export function liveText(tokens: readonly string[], v: CorefVerdict): string {
  if (v.pronoun === null) return v.headline;
  if (v.candidates.length === 0) return `${tokens[v.pronoun]}: no known noun to point at`;
  return `${tokens[v.pronoun]}: ${v.candidates.map((c) => `${tokens[c.index]} ${pct(c.p)}`).join(', ')}`;
}

/**
 * Whether an attention row spreads its weight almost evenly (a head that
 * looks at nothing in particular): its largest weight is under twice the
 * uniform 1/T. Such heads are dimmed and labelled "near-uniform".
 */
export function isNearUniform(row: ArrayLike<number>): boolean {
  let max = 0;
  for (let j = 0; j < row.length; j++) max = Math.max(max, row[j]);
  return row.length > 1 && max < 2 / row.length;
}

/** The heads of a layer whose rows are near-uniform for at least 3 queries in 4: the two-column view dims them. */
export function nearUniformHeads(layer: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>): number[] {
  return layer.flatMap((rows, head) => {
    const uniform = rows.reduce((n, row) => n + (isNearUniform(row) ? 1 : 0), 0);
    return rows.length > 0 && uniform >= 0.75 * rows.length ? [head] : [];
  });
}

/** The Winograd pair, offered as examples with the note below. */
export const WINOGRAD = {
  big: "The trophy didn't fit in the suitcase because it was too big.",
  small: "The trophy didn't fit in the suitcase because it was too small.",
};

/** For a text of the Winograd pair: why this model fails it. Null for other texts. */
export function winogradNote(tokens: readonly string[], unknown: readonly boolean[], knows: Knowledge): string | null {
  if (!tokens.includes('trophy') && !tokens.includes('suitcase')) return null;
  const unseen = [...new Set(tokens.filter((_, i) => unknown[i]))];
  return 'The Winograd schema: people know a trophy that is too big does not fit, and a suitcase that is too small cannot hold it. ' +
    `This model fails it. It has never seen ${unseen.map((w) => `“${w}”`).join(', ') || 'these words'}, ` +
    'and all it learned is one pattern, “the X didn\'t cross the Y because it was too Z”, where 22 adjectives tell an animal from a place. ' +
    `Nothing in its ${knows.words} words says what is big or small.`;
}

/**
 * Put `word` where a word of the same role stands (the grammar's list it
 * belongs to), keeping the rest of the text: chips build valid sentences.
 * With no word of that role in the text, the text is returned unchanged.
 */
export function swapWord(text: string, role: readonly string[], word: string): string {
  const re = new RegExp(`\\b(${role.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\b`, 'i');
  const m = re.exec(text);
  return m ? text.slice(0, m.index) + word + text.slice(m.index + m[0].length) : text;
}
