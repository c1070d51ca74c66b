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
//
// A pattern read from a file is data, and a regex can take exponential time
// (`(a+)+$`), so loaders run checkSplitPattern: a known pattern, or one that
// passes the static check in pattern-check.ts, or trustPattern from the caller.
import { TokenizerError } from './errors.js';
import { patternProblem } from './pattern-check.js';

/** GPT-2 / r50k_base / p50k_base. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** cl100k_base (GPT-3.5/4), rewritten for JS RegExp without possessive quantifiers (see above). */
export const CL100K_PATTERN =
  "'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/** cl100k_base as tiktoken writes it (Rust fancy-regex syntax; not valid in JS). For reference and tests. */
export const CL100K_PATTERN_TIKTOKEN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/**
 * Hugging Face's `Whitespace` pre-tokenizer regex: runs of word characters and
 * runs of other non-space characters; whitespace is dropped. (In JS `\w` is
 * ASCII only; Rust's, in Hugging Face, is Unicode.)
 */
export const WHITESPACE_PATTERN = '\\w+|[^\\w\\s]+';

/** A known split pattern: GPT-2's, cl100k's, or words and punctuation. */
export type PatternName = 'gpt2' | 'cl100k' | 'whitespace';

/** A named pattern's source, or a custom source as is. */
export function patternSource(pattern: PatternName | string): string {
  if (pattern === 'gpt2') return GPT2_PATTERN;
  if (pattern === 'cl100k') return CL100K_PATTERN;
  if (pattern === 'whitespace') return WHITESPACE_PATTERN;
  return pattern;
}

/**
 * Patterns trusted by name: ours, and cl100k and o200k as js-tiktoken's rank
 * objects spell them (their `pat_str`; cl100k's differs from ours in spelling
 * the contractions out and in `\s*[\r\n]+`). The tiktoken ones fail the static
 * check on parts like `\s*[\r\n]+`, whose backtracking is bounded by one run
 * of whitespace; they are trusted as tiktoken's own.
 */
const KNOWN_PATTERNS = new Set([
  GPT2_PATTERN,
  CL100K_PATTERN,
  WHITESPACE_PATTERN,
  "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
]);

/** Options of checkPattern. */
export interface CheckPatternOptions {
  /** What the pattern came from, to start the message ("tokenizer JSON", "tokenizer.json pre_tokenizer"). */
  where?: string;
  /** Skip the check: the caller vouches for the pattern (code, or a file it trusts). */
  trustPattern?: boolean;
}

/**
 * The source of a split pattern from a file, if it is safe to run: a known
 * pattern (by name or source), or one that passes the static check of
 * pattern-check.ts. Otherwise a TokenizerError naming the pattern and why.
 */
export function checkSplitPattern(pattern: PatternName | string, options: CheckPatternOptions = {}): string {
  const where = options.where ?? 'split pattern';
  if (typeof pattern !== 'string') throw new TokenizerError(`${where}: expected a pattern (a regex source), found ${pattern === null ? 'null' : typeof pattern}`);
  const source = patternSource(pattern);
  compilePattern(source);
  if (options.trustPattern || KNOWN_PATTERNS.has(source)) return source;
  const problem = patternProblem(source);
  if (problem === null) return source;
  const shown = source.length > 120 ? `${JSON.stringify(source.slice(0, 120))}...` : JSON.stringify(source);
  throw new TokenizerError(
    `${where}: pattern ${shown} is not a known split pattern (gpt2, cl100k, o200k, whitespace) and ${problem}; use a known pattern, or pass { trustPattern: true } if you trust this file`,
  );
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
