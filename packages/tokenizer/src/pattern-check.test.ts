// Split patterns from files: known ones and ones the static check passes run;
// slow ones are refused when the file is loaded, before any text meets them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { BpeTokenizer } from './bpe.js';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load.js';
import { patternProblem } from './pattern-check.js';
import { CL100K_PATTERN, GPT2_PATTERN, WHITESPACE_PATTERN, checkSplitPattern, splitText } from './patterns.js';
import { toBase64 } from './utf8.js';

const tiny = JSON.parse(readFileSync(new URL('../test/fixtures/tiny-hf-tokenizer.json', import.meta.url), 'utf8'));

/** A valid tokenizer JSON of ours (256 byte tokens) with the given pattern. */
const withPattern = (pattern: string) => ({
  kind: 'bpe' as const,
  version: 1 as const,
  pattern,
  vocab: Array.from({ length: 256 }, (_, b) => toBase64(Uint8Array.of(b))),
  specialTokens: {},
});

describe('the static check', () => {
  it.each([
    ['gpt2', GPT2_PATTERN],
    ['whitespace', WHITESPACE_PATTERN],
    ['one piece', '[\\s\\S]+'],
    ['letters and spaces', '\\p{L}+|\\s+'],
    ['runs and anything else', '[a-z]+|[0-9]{1,3}|\\s+(?!\\S)|\\s+|.'],
    ['contractions in a group', "'(?:[sS]|[dD]|[lL][lL])|\\p{L}+"],
    ['a lookbehind', '(?<=a)b+'],
  ])('passes %s', (_name, pattern) => {
    expect(patternProblem(pattern)).toBeNull();
  });

  it.each([
    ['(a+)+$', 'has a nested quantifier at offset 1, which can take exponential time'],
    ['(\\w+\\s?)*$', 'has a nested quantifier at offset 1, which can take exponential time'],
    ['(a|a)*', 'has an alternation inside a repeated group at offset 1, which can take exponential time'],
    ['(?:x|xy)+z', 'has an alternation inside a repeated group at offset 3, which can take exponential time'],
    ["(?:'s|'t)x", 'has an alternation whose branches can start with the same character at offset 3, which can take exponential time'],
    ['a?a?a?aaa', 'has an optional or repeated part that can match the same character as what follows it at offset 4, which can take exponential time'],
    ['\\d+\\d+', 'has an optional or repeated part that can match the same character as what follows it at offset 0, which can take exponential time'],
    ['[^x]+x', 'has a repeat followed by a part that can fail at offset 0, which can take time quadratic in the text'],
    ['(a)\\1', 'has a backreference at offset 3, which can take exponential time'],
    ['(?=a*b)', 'has a quantifier inside a lookaround at offset 3, which can take time quadratic in the text'],
    ['x{1000}', 'has a counted repeat above 16 at offset 0, which can take time quadratic in the text'],
    ['a'.repeat(1001), 'is longer than 1000 characters (1001)'],
  ])('refuses %s', (pattern, problem) => {
    expect(patternProblem(pattern)).toBe(problem);
  });

  it("refuses cl100k's pattern on its own (`\\s*[\\r\\n]`), which is why it is known by name", () => {
    expect(patternProblem(CL100K_PATTERN)).toMatch(/offset 114/);
    expect(checkSplitPattern(CL100K_PATTERN)).toBe(CL100K_PATTERN);
  });

  it("knows js-tiktoken's own spellings of gpt2, cl100k and o200k", () => {
    for (const ranks of [gpt2, cl100k, o200k]) expect(checkSplitPattern(ranks.pat_str)).toBe(ranks.pat_str);
    expect(checkSplitPattern('whitespace')).toBe(WHITESPACE_PATTERN);
    expect(splitText('hi, you  there!', 'whitespace')).toEqual(['hi', ',', 'you', 'there', '!']);
  });
});

describe('loading a file with a hostile pattern', () => {
  const hostile = '(a+)+$';
  const refusal = 'pattern "(a+)+$" is not a known split pattern (gpt2, cl100k, o200k, whitespace) and has a nested quantifier at offset 1, which can take exponential time; use a known pattern, or pass { trustPattern: true } if you trust this file';

  it('is refused by fromJSON and loadTokenizer, with one line naming the pattern and why', () => {
    expect(() => BpeTokenizer.fromJSON(withPattern(hostile))).toThrow(TokenizerError);
    expect(() => BpeTokenizer.fromJSON(withPattern(hostile))).toThrow(`tokenizer JSON: ${refusal}`);
    expect(() => loadTokenizer(JSON.stringify(withPattern('(\\w+\\s?)*$')))).toThrow(/^tokenizer JSON: pattern "\(\\\\w\+\\\\s\?\)\*\$" is not a known split pattern .* nested quantifier at offset 1/);
  });

  it("is refused in a Hugging Face tokenizer.json's Split pre-tokenizer", () => {
    const hf = { ...tiny, pre_tokenizer: { type: 'Split', pattern: { Regex: hostile }, behavior: 'Isolated', invert: false } };
    expect(() => BpeTokenizer.fromHuggingFace(hf)).toThrow(`pre_tokenizer.pattern: ${refusal}`);
    expect(() => loadTokenizer(hf)).toThrow(TokenizerError);
  });

  it('is refused as a tiktoken pattern, from options or from pat_str', () => {
    expect(() => BpeTokenizer.fromTiktoken(gpt2, { pattern: hostile })).toThrow(`options.pattern: ${refusal}`);
    expect(() => BpeTokenizer.fromTiktoken({ ...gpt2, pat_str: hostile })).toThrow(`tiktoken pat_str: ${refusal}`);
  });

  it('loads with trustPattern: true (code that vouches for the file), and code may pass any pattern', () => {
    const tok = BpeTokenizer.fromJSON(withPattern(hostile), { trustPattern: true });
    expect(tok.pattern).toBe(hostile);
    expect(loadTokenizer(withPattern(hostile), { trustPattern: true }).kind).toBe('bpe');
    expect(BpeTokenizer.fromTiktoken(gpt2, { pattern: hostile, trustPattern: true }).pattern).toBe(hostile);
    expect(new BpeTokenizer({ pattern: hostile, vocab: Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)) }).pattern).toBe(hostile);
  });

  it('still reports a pattern JS cannot compile as such, trusted or not', () => {
    expect(() => BpeTokenizer.fromJSON(withPattern('(?i:ab)'))).toThrow(/expected a split pattern that JS RegExp accepts/);
    expect(() => BpeTokenizer.fromJSON(withPattern('(?i:ab)'), { trustPattern: true })).toThrow(/expected a split pattern that JS RegExp accepts/);
  });

  it('round-trips a trained tokenizer: its pattern was code, and a known one loads back unchecked', () => {
    const tok = BpeTokenizer.train('the cat sat on the mat', { vocabSize: 260, pattern: 'cl100k' });
    expect(loadTokenizer(JSON.stringify(tok)).encode('the mat')).toEqual(tok.encode('the mat'));
  });
});
