import { describe, expect, it } from 'vitest';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { CL100K_PATTERN, CL100K_PATTERN_TIKTOKEN, GPT2_PATTERN, compilePattern, splitText } from './patterns.js';
import { TokenizerError } from './errors.js';
import { LONE_SURROGATES, TRICKY } from '../test/corpus.js';

const split = (re: string, text: string) => Array.from(text.matchAll(new RegExp(re, 'gu')), (m) => m[0]);

describe('split patterns', () => {
  it('GPT-2 is js-tiktoken\'s gpt2 pattern', () => {
    expect(GPT2_PATTERN).toBe(gpt2.pat_str);
  });

  it('cuts text as hand-worked examples say', () => {
    expect(splitText("Hello world's 123456 !!  x\n\n", 'gpt2')).toEqual(['Hello', ' world', "'s", ' 123456', ' !!', ' ', ' x', '\n\n']);
    expect(splitText("Hello world's 123456 !!  x\n\n", 'cl100k')).toEqual(['Hello', ' world', "'s", ' ', '123', '456', ' !!', ' ', ' x', '\n\n']);
    expect(splitText("HE'LL", 'cl100k')).toEqual(['HE', "'LL"]);
    expect(splitText("HE'LL", 'gpt2')).toEqual(['HE', "'", 'LL']);
  });

  it('cl100k without possessive quantifiers splits the tricky strings like js-tiktoken\'s pattern', () => {
    for (const text of [...TRICKY, ...LONE_SURROGATES]) {
      expect(split(CL100K_PATTERN, text), JSON.stringify(text)).toEqual(split(cl100k.pat_str, text));
    }
  });

  it('the possessive quantifiers could not give anything back: forcing atomic groups changes no split', () => {
    // Emulate possessive X++ with the atomic idiom (?=(X+))\1, which JS does have,
    // and check the emulation splits every tricky string like our pattern.
    const atomic =
      "'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|(?=([^\\r\\n\\p{L}\\p{N}]?))\\1\\p{L}+|\\p{N}{1,3}| ?(?=([^\\s\\p{L}\\p{N}]+))\\2[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    for (const text of [...TRICKY, ...LONE_SURROGATES]) {
      expect(split(CL100K_PATTERN, text), JSON.stringify(text)).toEqual(split(atomic, text));
    }
  });

  it('every piece is covered: the pieces join back to the text', () => {
    for (const text of TRICKY) {
      expect(splitText(text, 'gpt2').join('')).toBe(text);
      expect(splitText(text, 'cl100k').join('')).toBe(text);
    }
  });

  it('refuses tiktoken\'s own cl100k syntax with a hint', () => {
    expect(() => compilePattern(CL100K_PATTERN_TIKTOKEN)).toThrow(TokenizerError);
    expect(() => compilePattern(CL100K_PATTERN_TIKTOKEN)).toThrow(/possessive quantifiers/);
  });
});
