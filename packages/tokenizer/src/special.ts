// Special tokens (`<|endoftext|>`, ...) are matched in the raw text before the
// split pattern runs, and only when the caller allows them: by default their
// text is ordinary text, so user input cannot smuggle in control tokens.
import { TokenizerError } from './errors.js';
import type { AllowedSpecial } from './tokenizer.js';

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A regex that finds the allowed special tokens (longest first at the same offset), or null when none are allowed. */
export function specialRegex(allowed: AllowedSpecial | undefined, specials: Readonly<Record<string, number>>, all: RegExp | null): RegExp | null {
  if (allowed === undefined || allowed === 'none') return null;
  if (allowed === 'all') return all;
  if (!Array.isArray(allowed)) {
    throw new TokenizerError(`expected allowedSpecial to be 'all', 'none' or a list of special tokens, found ${JSON.stringify(allowed)}`);
  }
  for (const name of allowed) {
    if (!Object.hasOwn(specials, name)) {
      throw new TokenizerError(`expected allowedSpecial to name special tokens of this tokenizer (${Object.keys(specials).map((s) => JSON.stringify(s)).join(', ') || 'it has none'}), found ${JSON.stringify(name)}`);
    }
  }
  return buildSpecialRegex(allowed);
}

export function buildSpecialRegex(names: readonly string[]): RegExp | null {
  if (names.length === 0) return null;
  const sorted = [...names].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escape).join('|'), 'g');
}

/**
 * Encode text, turning allowed special tokens into their ids and everything
 * between them with `ordinary(text, start, end, out)`.
 */
export function encodeWithSpecials(
  text: string,
  regex: RegExp | null,
  specials: Readonly<Record<string, number>>,
  ordinary: (text: string, start: number, end: number, out: number[]) => void,
): number[] {
  const out: number[] = [];
  if (regex === null) {
    ordinary(text, 0, text.length, out);
    return out;
  }
  let start = 0;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m.index > start) ordinary(text, start, m.index, out);
    out.push(specials[m[0]]);
    start = m.index + m[0].length;
  }
  if (start < text.length) ordinary(text, start, text.length, out);
  return out;
}
