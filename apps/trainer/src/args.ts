// How every tx command reads its command line: node:util parseArgs with the
// command's flag table (flags.ts), numbers in plain decimal (numbers.ts), and
// UsageError for a mistake in how tx was called (one line, exit code 2).
// Commands import this, never run.ts, so run.ts -> commands is the only arrow.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { MAX_THREADS, TxError } from '@tx/core';
import type { Spec } from './flags.js';
import { decimal } from './numbers.js';
import { closest } from './suggest.js';

/** Where a command writes: standard output and error, or strings in tests. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
}

/** A mistake in how tx was called: reported as one line, exit code 2. */
export class UsageError extends TxError {}

/**
 * node:util parseArgs with a command's flag table (flags.ts), strict, with its
 * long messages cut to the part that names the flag; flags the table marks
 * required must be there.
 */
export function parse(argv: string[], spec: Spec, positionals = 0): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(spec).map(([flag, f]) => [flag, { type: f.type }]));
  // "--seed -1": a negative number is the flag's value (node reads it as an ambiguous option).
  const args = [...argv];
  for (let i = args.length - 1; i > 0; i--) {
    if (/^-\.?\d/.test(args[i]) && args[i - 1].startsWith('--') && options[args[i - 1].slice(2)]?.type === 'string') args.splice(i - 1, 2, `${args[i - 1]}=${args[i]}`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    const first = (err as Error).message.split(/\.(?:\s|$)/)[0]; // its first sentence: one line
    // A mistyped flag: the closest one of this command (suggest.ts), as `--max-iter` -> --max-iters.
    const unknown = /^Unknown option '--([^']+)'$/.exec(first)?.[1];
    const near = unknown === undefined ? undefined : closest(unknown, [...Object.keys(spec), 'help', 'debug']);
    throw new UsageError(`${first}${near ? `; did you mean --${near}?` : ''} (see tx --help)`);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}" (see tx --help)`);
  for (const [flag, f] of Object.entries(spec)) if (f.required) required(parsed.values, flag);
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

export function required(values: Record<string, unknown>, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag} is required (see tx --help)`);
  return v;
}

/** A flag that must be a positive number (or integer) in plain decimal (numbers.ts), or undefined when absent. */
export function positive(values: Record<string, unknown>, flag: string, integer: boolean): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' ? decimal(raw, { integer }) : null;
  if (n === null || n <= 0) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return n;
}

/**
 * --threads, 1 to 64; else TX_THREADS, read (and checked) by @tx/core (undefined here); else every core of
 * this machine, up to 64. @tx/core starts at most as many threads as there are cores (the start line says so).
 */
export function threadsFlag(values: Record<string, unknown>): number | undefined {
  const n = positive(values, 'threads', true);
  if (n !== undefined && n > MAX_THREADS) throw new UsageError(`--threads must be an integer from 1 to ${MAX_THREADS}, got "${values.threads}"`);
  return n ?? (process.env.TX_THREADS ? undefined : Math.min(availableParallelism(), MAX_THREADS));
}
