// A small schema for `tx train` settings, shared by flags and --config files.
// Each field says its type and bounds; a bad value gives one message naming
// the field (and, for a config file, the file and line).
import { TxError, parseJson } from '@tx/core';
import { decimal } from './numbers.js';

export class ConfigError extends TxError {}

type Field =
  | { type: 'int'; min?: number; max?: number }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: 'string' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] };

export const TRAIN_FIELDS = {
  task: { type: 'enum', values: ['names', 'text', 'dates', 'copy', 'reverse', 'coref'] },
  data: { type: 'string' },
  tokenizer: { type: 'enum', values: ['char', 'bpe'] },
  vocabSize: { type: 'int', min: 256, max: 1_000_000 }, // byte-level BPE: 256 byte tokens, then merges
  preset: { type: 'string' },
  maxIters: { type: 'int', min: 1 },
  batchSize: { type: 'int', min: 1, max: 65_536 },
  lr: { type: 'number', min: 0, exclusiveMin: true },
  minLr: { type: 'number', min: 0 },
  warmupIters: { type: 'int', min: 0 },
  weightDecay: { type: 'number', min: 0 },
  beta2: { type: 'number', min: 0, max: 1 },
  gradClip: { type: 'number', min: 0 },
  evalInterval: { type: 'int', min: 1 },
  evalIters: { type: 'int', min: 1 },
  out: { type: 'string' },
  resume: { type: 'string' },
  backend: { type: 'enum', values: ['auto', 'webgpu', 'wasm', 'cpu'] },
  seed: { type: 'int', min: 0, max: 0xffffffff },
  nLayer: { type: 'int', min: 1, max: 96 },
  nHead: { type: 'int', min: 1, max: 128 },
  nEmbd: { type: 'int', min: 1, max: 16_384 },
  blockSize: { type: 'int', min: 1, max: 65_536 },
  dropout: { type: 'number', min: 0, max: 1 },
  bias: { type: 'boolean' },
  model: { type: 'enum', values: ['gpt', 'llama'] },
  json: { type: 'boolean' },
} as const satisfies Record<string, Field>;

export type TrainSettings = { -readonly [K in keyof typeof TRAIN_FIELDS]?: FieldValue<(typeof TRAIN_FIELDS)[K]> };
type FieldValue<F> = F extends { type: 'int' | 'number' } ? number : F extends { type: 'boolean' } ? boolean : string;

/**
 * Check one value against its field; `where` names it in errors ("--max-iters",
 * 'config.json:4: field "maxIters"'). With `text` (a flag's value) a number is
 * read from plain decimal only (numbers.ts); in JSON it must be a JSON number.
 */
export function checkField(name: keyof typeof TRAIN_FIELDS, value: unknown, where: string, { text = false }: { text?: boolean } = {}): number | string | boolean {
  const field: Field = TRAIN_FIELDS[name];
  const bad = (expected: string) => new ConfigError(`${where} must be ${expected}, got ${JSON.stringify(value)}`);
  switch (field.type) {
    case 'int':
    case 'number': {
      const n = typeof value === 'string' && text ? decimal(value, { integer: field.type === 'int' }) : value;
      const kind = field.type === 'int' ? 'an integer' : 'a number';
      const range = [
        field.min !== undefined ? `${'exclusiveMin' in field && field.exclusiveMin ? '>' : '>='} ${field.min}` : '',
        field.max !== undefined ? `<= ${field.max}` : '',
      ].filter(Boolean).join(' and ');
      const json = typeof value === 'string' && !text ? ' (a JSON number, not a string)' : '';
      const expected = `${range ? `${kind} ${range}` : kind}${json}`;
      // An integer must be exact (a step of 1e20 is not one a double can count).
      if (typeof n !== 'number' || !Number.isFinite(n) || (field.type === 'int' && !Number.isSafeInteger(n))) throw bad(expected);
      if (field.min !== undefined && ('exclusiveMin' in field && field.exclusiveMin ? n <= field.min : n < field.min)) throw bad(expected);
      if (field.max !== undefined && n > field.max) throw bad(expected);
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) throw bad(`one of ${field.values.join(', ')}`);
      return value;
    case 'string':
      if (typeof value !== 'string' || value === '') throw bad('a non-empty string');
      return value;
  }
}

/** Parse and validate a JSON config file's text. Unknown fields are errors (a typo should not be ignored). */
export function parseConfigFile(text: string, path: string): TrainSettings {
  const raw = parseJson(text, path, ConfigError);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${path}: expected a JSON object of settings`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const line = lineOf(text, key);
    if (!(key in TRAIN_FIELDS)) {
      throw new ConfigError(`${path}:${line}: unknown field "${key}" (known: ${Object.keys(TRAIN_FIELDS).join(', ')})`);
    }
    out[key] = checkField(key as keyof typeof TRAIN_FIELDS, value, `${path}:${line}: field "${key}"`);
  }
  return out as TrainSettings;
}

function lineOf(text: string, key: string): number {
  const at = text.indexOf(JSON.stringify(key));
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}
