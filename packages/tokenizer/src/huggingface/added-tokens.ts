// Added tokens (tokenizer.json's `added_tokens`: <s>, <|eot_id|>, ...) are
// found in the text before the model sees it, as Hugging Face's
// AddedVocabulary::extract_and_normalize does:
//
// 1. Tokens with normalized: false are found in the raw text.
// 2. Each stretch between them is normalized (normalizers.ts), and tokens with
//    normalized: true are found in that, spelled as the normalizer spells them
//    (with Prepend("▁"), "<tool>" is looked for as "▁<tool>").
//
// At one offset the longest token wins (leftmost-longest, Aho-Corasick's
// rule). lstrip and rstrip make a token take the whitespace before or after
// it; single_word takes it only between non-word characters. A special token
// the caller does not allow is left as text (Hugging Face's
// encode_special_tokens), and its match still ends there, as in Hugging Face.
import { TokenizerError } from '../errors.js';
import { describeValue, expectArray, expectId, expectObject, expectString } from '../validate.js';
import type { Normalizer } from './normalizers.js';
import { WHITE_SPACE } from './regex.js';

/** One entry of `added_tokens`. */
export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

/** A stretch of text for the pre-tokenizer (id null), or an added token's id. `first` when it starts the text. */
export interface Segment {
  text: string;
  id: number | null;
  first: boolean;
}

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
const space = new RegExp(`^[${WHITE_SPACE}]$`, 'u');
const word = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u; // Rust regex's \w
/** The character before offset i, or after it. */
const before = (text: string, i: number) => (i >= 2 && /[\udc00-\udfff]/.test(text[i - 1]) ? text.slice(i - 2, i) : text.slice(i - 1, i));
const after = (text: string, i: number) => String.fromCodePoint(text.codePointAt(i) ?? 0);

/** tokenizer.json's `added_tokens`, checked; ids at most idMax. */
export function parseAddedTokens(json: unknown, idMax: number): AddedToken[] {
  if (json === undefined || json === null) return [];
  return expectArray(json, 'added_tokens').map((t, i) => {
    const token = expectObject(t, `added_tokens[${i}]`);
    const flag = (field: string, fallback: boolean) => {
      const v = token[field];
      if (v === undefined) return fallback;
      if (typeof v !== 'boolean') throw new TokenizerError(`added_tokens[${i}].${field}: expected true or false, found ${describeValue(v)}`);
      return v;
    };
    const special = flag('special', false);
    return {
      id: expectId(token.id, `added_tokens[${i}].id`, idMax),
      content: expectString(token.content, `added_tokens[${i}].content`, true),
      special,
      normalized: flag('normalized', !special),
      lstrip: flag('lstrip', false),
      rstrip: flag('rstrip', false),
      singleWord: flag('single_word', false),
    };
  });
}

/** Finds added tokens in text, as Hugging Face does (see the header). */
export class AddedTokenMatcher {
  private readonly raw: Matcher;
  private readonly normalized: Matcher;

  constructor(
    tokens: readonly AddedToken[],
    private readonly normalize: Normalizer | null,
  ) {
    this.raw = matcher(tokens.filter((t) => !t.normalized).map((t) => [t.content, t]));
    this.normalized = matcher(tokens.filter((t) => t.normalized).map((t) => [normalize ? normalize(t.content) : t.content, t]));
  }

  /** The text as added tokens and normalized stretches between them; `allowed` says which special tokens may match. */
  split(text: string, allowed: (token: AddedToken) => boolean): Segment[] {
    const out: Segment[] = [];
    for (const stretch of find(text, this.raw, allowed)) {
      if (stretch.token) {
        out.push({ text: stretch.text, id: stretch.token.id, first: stretch.start === 0 });
        continue;
      }
      const normalized = this.normalize ? this.normalize(stretch.text) : stretch.text;
      for (const part of find(normalized, this.normalized, allowed)) {
        if (part.text === '' && !part.token) continue;
        out.push({ text: part.text, id: part.token ? part.token.id : null, first: stretch.start === 0 && part.start === 0 });
      }
    }
    return out;
  }
}

interface Matcher {
  regex: RegExp | null;
  byText: Map<string, AddedToken>;
}

function matcher(entries: [string, AddedToken][]): Matcher {
  const byText = new Map<string, AddedToken>();
  for (const [text, token] of entries) if (text !== '' && !byText.has(text)) byText.set(text, token);
  const sorted = [...byText.keys()].sort((a, b) => b.length - a.length); // longest first: leftmost-longest
  return { regex: sorted.length ? new RegExp(sorted.map(escape).join('|'), 'g') : null, byText };
}

interface Found {
  text: string;
  start: number;
  token: AddedToken | null;
}

/** AddedVocabulary::find_matches: the stretches of text and the tokens found in it, end to end. */
function find(text: string, { regex, byText }: Matcher, allowed: (token: AddedToken) => boolean): Found[] {
  if (regex === null || text === '') return text === '' ? [] : [{ text, start: 0, token: null }];
  const out: Found[] = [];
  let done = 0;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    const token = byText.get(m[0])!;
    let start = m.index;
    let stop = start + m[0].length;
    if (token.special && !allowed(token)) continue;
    if (token.singleWord && ((start > 0 && word.test(before(text, start))) || (stop < text.length && word.test(after(text, stop))))) continue;
    if (token.lstrip) while (start > done && space.test(before(text, start))) start -= before(text, start).length;
    if (token.rstrip) while (stop < text.length && space.test(after(text, stop))) stop += after(text, stop).length;
    if (start > done) out.push({ text: text.slice(done, start), start: done, token: null });
    out.push({ text: text.slice(start, stop), start, token });
    done = stop;
    regex.lastIndex = Math.max(regex.lastIndex, stop);
  }
  if (done < text.length) out.push({ text: text.slice(done), start: done, token: null });
  return out;
}
