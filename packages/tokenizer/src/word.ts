// WordTokenizer: one id per word or punctuation mark, the tokens of the
// explainer's pictures ("The animal didn't cross the street because it was
// too tired." is 12 tokens: "it", "animal" and "street" are one token each).
//
// Text is split into words (letters, digits and combining marks, with inner
// apostrophes: "didn't" is one word) and single punctuation marks; whitespace
// only separates tokens and is not kept. By default words are lowercased, so
// "The" and "the" are one token, and a typographic apostrophe (’) is read as
// '. The vocabulary is the special tokens (padding, unknown, ...) then the
// words of a corpus, most frequent first (ties in code point order), as
// torchtext's build_vocab_from_iterator orders them.
//
// decode() is not encode()'s inverse: it joins words with single spaces (none
// before closing punctuation, none after opening brackets), in the
// vocabulary's case.
import { TokenizerError, lineColumn } from './errors.js';
import { buildSpecialRegex, encodeWithSpecials, specialRegex } from './special.js';
import type { EncodeOptions, TextStream, Tokenizer, WordTokenizerJSON } from './tokenizer.js';
import { MAX_ID, describeValue, expectArray, expectSpecialTokenList, expectString, expectTokenizerJSON, specialTokenTable, tokenText } from './validate.js';

/** Options of WordTokenizer: special tokens, and the padding and unknown-word tokens. */
export interface WordTokenizerOptions {
  /** Special tokens, given the first ids in this order. */
  specialTokens?: readonly string[];
  /** The padding token (added to specialTokens if missing). */
  pad?: string;
  /** Unknown words become this special token instead of an error (added to specialTokens, after pad, if missing). */
  unk?: string;
  /** Lowercase every word (default true). */
  lowercase?: boolean;
}

/** Options for a WordTokenizer's vocabulary built from text: how many words to keep. */
export interface WordVocabularyOptions extends WordTokenizerOptions {
  /** Keep at most this many words, the most frequent (default: all). */
  maxWords?: number;
  /** Keep only words seen at least this many times (default 1). */
  minCount?: number;
}

/** A word (letters, digits, marks, inner apostrophes) or one other non-space character. */
const PIECE = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]/gu;
/** No space before these when decoding, none after the opening brackets. */
const CLOSING = new Set(['.', ',', '!', '?', ';', ':', '%', ')', ']', '}', '…']);
const OPENING = new Set(['(', '[', '{']);

/** Where each word of `text` starts and ends, and the word as the vocabulary spells it. */
export interface WordPiece {
  word: string;
  start: number;
  end: number;
}

/** One id per word, for small closed vocabularies such as the coref task's. */
export class WordTokenizer implements Tokenizer {
  readonly kind = 'word';
  readonly vocabSize: number;
  /** The words, in id order (their ids start after the special tokens). */
  readonly words: readonly string[];
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly unk: string | null;
  readonly pad: string | null;
  readonly lowercase: boolean;
  private readonly idOf = new Map<string, number>();
  private readonly text: string[];
  private readonly allSpecials: RegExp | null;
  private readonly unkId: number;

  /** A tokenizer over exactly these words (each one word or one punctuation mark, as split() reads it), in this order. */
  constructor(words: Iterable<string>, options: WordTokenizerOptions = {}) {
    this.lowercase = options.lowercase ?? true;
    const specials = [...(options.specialTokens ?? [])];
    for (const name of [options.pad, options.unk]) if (name !== undefined && !specials.includes(name)) specials.push(name);
    const table = specialTokenTable(specials, 0);
    this.words = Object.freeze([...words]);
    this.words.forEach((w, i) => {
      const pieces = typeof w === 'string' ? this.split(w) : [];
      if (pieces.length !== 1 || pieces[0].word !== w) {
        const hint = typeof w === 'string' && pieces.length === 1 ? ` (it reads as ${JSON.stringify(pieces[0].word)}${this.lowercase ? ': words are lowercased' : ''})` : '';
        throw new TokenizerError(`words[${i}]: expected one word or one punctuation mark, found ${describeValue(w)}${hint}`);
      }
      if (this.idOf.has(w)) throw new TokenizerError(`words[${i}]: expected distinct words, found ${JSON.stringify(w)} again`);
      this.idOf.set(w, specials.length + i);
    });
    if (specials.length + this.words.length > MAX_ID + 1) throw new TokenizerError(`expected at most ${MAX_ID + 1} tokens, found ${specials.length + this.words.length}`);
    this.specialTokens = Object.freeze(table);
    this.unk = options.unk ?? null;
    this.pad = options.pad ?? null;
    this.unkId = this.unk === null ? -1 : table[this.unk];
    this.text = [...specials, ...this.words];
    this.vocabSize = this.text.length;
    this.allSpecials = buildSpecialRegex(specials);
  }

  /** The words of a corpus, most frequent first (ties in code point order), after the special tokens. */
  static fromText(text: string, options: WordVocabularyOptions = {}): WordTokenizer {
    const { maxWords = Infinity, minCount = 1, ...rest } = options;
    const counts = new Map<string, number>();
    for (const { word } of splitWords(text, rest.lowercase ?? true)) counts.set(word, (counts.get(word) ?? 0) + 1);
    const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const words = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || byCode(a[0], b[0])).slice(0, maxWords).map(([w]) => w);
    return new WordTokenizer(words, rest);
  }

  /** From our JSON (toJSON's output). */
  static fromJSON(json: WordTokenizerJSON | string): WordTokenizer {
    const data = expectTokenizerJSON(json, 'word');
    const words = expectArray(data.words, 'words');
    words.forEach((w, i) => expectString(w, `words[${i}]`, true));
    const specialTokens = expectSpecialTokenList(data);
    const optional = (field: 'unk' | 'pad') => {
      const v = data[field];
      if (v === undefined || v === null) return undefined;
      const name = expectString(v, field, true);
      if (!specialTokens.includes(name)) throw new TokenizerError(`${field}: expected one of specialTokens, found ${JSON.stringify(name)}`);
      return name;
    };
    if (data.lowercase !== undefined && typeof data.lowercase !== 'boolean') throw new TokenizerError(`lowercase: expected true or false, found ${describeValue(data.lowercase)}`);
    return new WordTokenizer(words as string[], { specialTokens, unk: optional('unk'), pad: optional('pad'), lowercase: data.lowercase ?? true });
  }

  toJSON(): WordTokenizerJSON {
    return { kind: 'word', version: 1, lowercase: this.lowercase, specialTokens: Object.keys(this.specialTokens), pad: this.pad, unk: this.unk, words: [...this.words] };
  }

  /** The words of `text` as the vocabulary spells them (lowercased, ’ as '), with their UTF-16 offsets. */
  split(text: string): WordPiece[] {
    return splitWords(text, this.lowercase);
  }

  /** The distinct words of `text` that are not in the vocabulary, in order of first appearance. */
  unknownWords(text: string): string[] {
    return [...new Set(this.split(text).map((p) => p.word).filter((w) => !this.idOf.has(w)))];
  }

  /** Text to ids. An unknown word is the unk id, or a TokenizerError naming it, its offset, line and column. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const regex = specialRegex(options.allowedSpecial, this.specialTokens, this.allSpecials);
    return encodeWithSpecials(text, regex, this.specialTokens, (t, start, end, out) => {
      for (const { word, start: at } of this.split(t.slice(start, end))) {
        const id = this.idOf.get(word);
        if (id !== undefined) out.push(id);
        else if (this.unkId >= 0) out.push(this.unkId);
        else {
          const { line, column } = lineColumn(t, start + at);
          throw new TokenizerError(`expected words of the vocabulary (${this.words.length} words), found ${JSON.stringify(word)} at offset ${start + at} (line ${line}, column ${column}); pass { unk } to map unknown words to a token`);
        }
      }
    });
  }

  /** Ids to text: tokens joined by single spaces, none before closing punctuation or after an opening bracket. */
  decode(ids: readonly number[]): string {
    const stream = this.textStream();
    let s = '';
    for (const id of ids) s += stream.push(id);
    return s + stream.flush();
  }

  private idText(id: number, index: number): string {
    return tokenText(this.text, id, index);
  }

  /** Each id is a whole token: push returns it, with the space decode() puts before it. */
  textStream(): TextStream {
    let n = 0;
    let previous: string | null = null;
    return {
      push: (id) => {
        const t = this.idText(id, n++);
        const space = previous !== null && !CLOSING.has(t) && !OPENING.has(previous);
        previous = t;
        return space ? ` ${t}` : t;
      },
      flush: () => {
        n = 0;
        previous = null;
        return '';
      },
    };
  }
}

function splitWords(text: string, lowercase: boolean): WordPiece[] {
  const out: WordPiece[] = [];
  PIECE.lastIndex = 0;
  for (let m = PIECE.exec(text); m !== null; m = PIECE.exec(text)) {
    const word = m[0].replace(/’/g, "'");
    out.push({ word: lowercase ? word.toLowerCase() : word, start: m.index, end: m.index + m[0].length });
  }
  return out;
}
