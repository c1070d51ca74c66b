// CharTokenizer: one id per character, nanoGPT's tokenizer. The vocabulary is
// the sorted distinct characters of a corpus (65 for Tiny Shakespeare), then
// the special tokens. A "character" is a Unicode code point (what `for...of`
// over a string yields): an emoji is one character, a flag or a ZWJ family
// several, a lone surrogate one of its own.
import { TokenizerError, describeChar, lineColumn } from './errors.js';
import { encodeWithSpecials, specialRegex, buildSpecialRegex } from './special.js';
import type { CharTokenizerJSON, TextStream, EncodeOptions, Tokenizer } from './tokenizer.js';
import { describeValue, expectSpecialTokenList, expectString, expectTokenizerJSON, specialTokenTable, tokenText } from './validate.js';

/** Options of CharTokenizer: special tokens, and a token for unknown characters. */
export interface CharTokenizerOptions {
  /** Special tokens, given ids after the characters in this order. */
  specialTokens?: readonly string[];
  /** Unknown characters become this special token instead of an error (added to specialTokens if missing). */
  unk?: string;
}

/** One id per character (nanoGPT's character-level vocabulary), with optional special tokens. */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  /** The characters, in id order. */
  readonly chars: readonly string[];
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly unk: string | null;
  private readonly idOf = new Map<number, number>();
  private readonly text: string[];
  private readonly allSpecials: RegExp | null;
  private readonly unkId: number;

  /** A tokenizer over exactly these characters (each a single code point), in this order. */
  constructor(chars: Iterable<string>, options: CharTokenizerOptions = {}) {
    this.chars = Object.freeze([...chars]);
    this.chars.forEach((ch, id) => {
      const cp = ch.codePointAt(0);
      if (cp === undefined || ch.length !== (cp > 0xffff ? 2 : 1)) {
        throw new TokenizerError(`chars[${id}]: expected a single character (code point), found ${JSON.stringify(ch)}`);
      }
      if (this.idOf.has(cp)) throw new TokenizerError(`chars[${id}]: expected distinct characters, found ${describeChar(ch)} again`);
      this.idOf.set(cp, id);
    });
    const specials = [...(options.specialTokens ?? [])];
    if (options.unk !== undefined && !specials.includes(options.unk)) specials.push(options.unk);
    const table = specialTokenTable(specials, this.chars.length);
    this.specialTokens = table;
    this.unk = options.unk ?? null;
    this.unkId = this.unk === null ? -1 : table[this.unk];
    this.text = [...this.chars, ...specials];
    this.vocabSize = this.text.length;
    this.allSpecials = buildSpecialRegex(specials);
  }

  /** The sorted distinct characters of text, then the special tokens (nanoGPT's `sorted(list(set(text)))`). */
  static fromText(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars, options);
  }

  /** From our JSON (toJSON's output), or `{ kind: 'char', chars: 'abc' }` as `@tx` checkpoints write it. */
  static fromJSON(json: CharTokenizerJSON | string): CharTokenizer {
    const data = expectTokenizerJSON(json, 'char');
    if (typeof data.chars !== 'string') throw new TokenizerError(`chars: expected a string of the vocabulary's characters, found ${describeValue(data.chars)}`);
    const specialTokens = expectSpecialTokenList(data);
    const unk = data.unk === undefined || data.unk === null ? undefined : expectString(data.unk, 'unk', true);
    return new CharTokenizer(data.chars, { specialTokens, unk });
  }

  toJSON(): CharTokenizerJSON {
    const specials = Object.keys(this.specialTokens);
    return { kind: 'char', version: 1, chars: this.chars.join(''), specialTokens: specials, unk: this.unk };
  }

  /** Text to ids. An unknown character is the unk id, or a TokenizerError naming it, its offset, line and column. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const regex = specialRegex(options.allowedSpecial, this.specialTokens, this.allSpecials);
    return encodeWithSpecials(text, regex, this.specialTokens, (t, start, end, out) => {
      for (let i = start; i < end; i++) {
        const cp = t.codePointAt(i)!;
        const id = this.idOf.get(cp);
        if (id !== undefined) out.push(id);
        else if (this.unkId >= 0) out.push(this.unkId);
        else {
          const { line, column } = lineColumn(t, i);
          throw new TokenizerError(`expected characters of the vocabulary (${this.chars.length} characters), found ${describeChar(String.fromCodePoint(cp))} at offset ${i} (line ${line}, column ${column}); pass { unk } to map unknown characters to a token`);
        }
        if (cp > 0xffff) i++;
      }
    });
  }

  decode(ids: readonly number[]): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.idText(ids[i], i);
    return s;
  }

  private idText(id: number, index: number): string {
    return tokenText(this.text, id, index);
  }

  /** Every id is whole characters, so the stream decoder returns each at once. */
  textStream(): TextStream {
    let n = 0;
    return { push: (id) => this.idText(id, n++), flush: () => ((n = 0), '') };
  }
}
