// Reading tokenizer files, which are data a user hands us, not code: every
// field is checked before it is used, so a malformed file is one
// TokenizerError naming the field and what was found there, never a
// TypeError or RangeError from deep inside, and never an allocation the file
// did not pay for (an id of 1e9 would otherwise grow the vocabulary to 1e9).
import { TokenizerError } from './errors.js';

/** The largest id: ids are int32 in tensors, and an embedding needs vocabSize = id + 1 rows. */
export const MAX_ID = 2 ** 31 - 2;

/**
 * Ids may leave gaps (cl100k has unused ids between its tokens and its special
 * tokens), but at most this many past the tokens given, so vocabSize, and the
 * memory a file makes us allocate, stays in proportion to the file.
 */
export const MAX_GAP = 65_536;

/** A value as a message can show it: short, even when the value is huge. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}... (${value.length} characters)` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** JSON text to a value; text that does not parse is a TokenizerError. */
export function parseJSON(text: string, what = 'tokenizer JSON text'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(`expected ${what}, found text that does not parse: ${(err as Error).message}`, { cause: err });
  }
}

/** A plain object (not null, not an array). */
export function expectObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerError(`${field}: expected an object, found ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

export function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new TokenizerError(`${field}: expected an array, found ${describeValue(value)}`);
  return value;
}

export function expectString(value: unknown, field: string, nonEmpty = false): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw new TokenizerError(`${field}: expected a ${nonEmpty ? 'non-empty ' : ''}string, found ${describeValue(value)}`);
  }
  return value;
}

/** An integer id from 0 to max. */
export function expectId(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new TokenizerError(`${field}: expected an integer id from 0 to ${max}, found ${describeValue(value)}`);
  }
  return value;
}

/** The largest id a file with `count` tokens may use. */
export function idLimit(count: number): number {
  return Math.min(MAX_ID, count - 1 + MAX_GAP);
}

/** Our own tokenizer JSON of one kind, as text or parsed: the record, its kind and version checked. */
export function expectTokenizerJSON(json: unknown, kind: string): Record<string, unknown> {
  const data = (typeof json === 'string' ? parseJSON(json) : json) as Record<string, unknown> | null;
  if (data === null || typeof data !== 'object' || data.kind !== kind) {
    throw new TokenizerError(`expected a tokenizer JSON with kind "${kind}", found ${data !== null && typeof data === 'object' ? `kind ${describeValue(data.kind)}` : describeValue(data)}`);
  }
  if (data.version !== undefined && data.version !== 1) throw new TokenizerError(`expected ${kind} tokenizer JSON version 1, found ${describeValue(data.version)}`);
  return data;
}

/** The record's "specialTokens": a list of strings (none when absent). */
export function expectSpecialTokenList(data: Record<string, unknown>): string[] {
  const specialTokens = data.specialTokens === undefined || data.specialTokens === null ? [] : expectArray(data.specialTokens, 'specialTokens');
  specialTokens.forEach((s, i) => expectString(s, `specialTokens[${i}]`, true));
  return specialTokens as string[];
}

/** The text of token `id` (ids[index] of a decode call), or a TokenizerError naming the bad id. */
export function tokenText(texts: readonly string[], id: number, index: number): string {
  const t = Number.isInteger(id) ? texts[id] : undefined;
  if (t === undefined) throw new TokenizerError(`ids[${index}]: expected a token id from 0 to ${texts.length - 1}, found ${id}`);
  return t;
}

/**
 * Special tokens -> ids firstId, firstId + 1, ...: a frozen table whose keys
 * are all own keys (a token named "__proto__" is just a token). Throws on an
 * empty or repeated name.
 */
export function specialTokenTable(specials: readonly string[], firstId: number): Readonly<Record<string, number>> {
  const ids = new Map<string, number>();
  specials.forEach((s, i) => {
    if (typeof s !== 'string' || s === '' || ids.has(s)) throw new TokenizerError(`expected distinct, non-empty special tokens, found ${JSON.stringify(s)}${s === '' ? '' : ' twice'}`);
    ids.set(s, firstId + i);
  });
  return Object.freeze(Object.fromEntries(ids));
}
