// Split patterns: a byte-level BPE never merges across the pieces this regex
// cuts the text into (words, numbers, punctuation runs, whitespace runs).
//
// GPT-2's pattern works in JS as is (with the `u` flag). cl100k's, as tiktoken
// writes it, uses two things JS RegExp lacks:
//
//   '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+
//
// 1. Possessive quantifiers (`?+`, `++`). A possessive quantifier never gives
//    back what it matched; dropping it changes a match only if giving back
//    could let the rest of the alternative match. Here it cannot:
//    - `[^\r\n\p{L}\p{N}]?+\p{L}+`: the optional char is never a letter, so
//      giving it back leaves `\p{L}+` to start on a non-letter, which fails.
//    - `[^\s\p{L}\p{N}]++[\r\n]*`: `\r` and `\n` are in `\s`, so the two sets
//      are disjoint and the run cannot give anything to `[\r\n]*`.
// 2. A scoped case-insensitive group `(?i:...)`. We spell the cases out
//    (`[sS]`, `[lL][lL]`, ...), as js-tiktoken does. (Rust's `(?i)` would also
//    let `'ſ` (U+017F, which folds to s) and `'K` (Kelvin sign) match; we
//    follow js-tiktoken, the reference our tests compare against.)
//
// The test file patterns.test.ts checks these splits piece by piece against
// js-tiktoken's own pattern on the tricky strings.
import { TokenizerError } from './errors.js';

/** GPT-2 / r50k_base / p50k_base. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** cl100k_base (GPT-3.5/4), rewritten for JS RegExp without possessive quantifiers (see above). */
export const CL100K_PATTERN =
  "'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/** cl100k_base as tiktoken writes it (Rust fancy-regex syntax; not valid in JS). For reference and tests. */
export const CL100K_PATTERN_TIKTOKEN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

export type PatternName = 'gpt2' | 'cl100k';

/** A named pattern's source, or a custom source as is. */
export function patternSource(pattern: PatternName | string): string {
  if (pattern === 'gpt2') return GPT2_PATTERN;
  if (pattern === 'cl100k') return CL100K_PATTERN;
  return pattern;
}

/** Compile a split pattern with the `gu` flags, or say why it cannot be. */
export function compilePattern(source: string): RegExp {
  try {
    return new RegExp(source, 'gu');
  } catch (err) {
    const hint = /\+\+|\?\+|\*\+|\}\+|\(\?i:/.test(source)
      ? ' It looks like it uses possessive quantifiers or a (?i:...) group, which JS RegExp lacks: rewrite them (see CL100K_PATTERN).'
      : '';
    throw new TokenizerError(`expected a split pattern that JS RegExp accepts with the "u" flag, found ${JSON.stringify(source)}: ${(err as Error).message}.${hint}`, { cause: err });
  }
}

/** The pieces a pattern cuts text into (what the BPE then merges within). */
export function splitText(text: string, pattern: PatternName | string = 'gpt2'): string[] {
  return Array.from(text.matchAll(compilePattern(patternSource(pattern))), (m) => m[0]);
}
