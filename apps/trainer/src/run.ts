// The `tx` command line: parse, dispatch, and turn every expected failure
// into one line on stderr with exit code 2 (a stack trace only with --debug).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONFIG_LIMIT, readTextFile } from './read.js';
import { availableParallelism, constants } from 'node:os';
import { MAX_THREADS, TxError, initBackend } from '@tx/core';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { trainLanguageModel } from './lm.js';
import { decimal } from './numbers.js';
import { memoryBudget } from './budget.js';
import { openCheckpoint, readCheckpointConfig } from './model-io.js';
import { checkOut } from './out.js';
import { recoverFolder } from '@tx/train/node';
import { TRAIN_FIELDS, checkField, parseConfigFile, type TrainSettings } from './schema.js';
import { trainSeq2Seq } from './seq2seq-train.js';
import { trainCoref } from './coref-train.js';
import { resolveSettings } from './settings.js';
import { sampleCommand, evalCommand, inspectCommand } from './commands/use.js';
import { importCommand, exportCommand } from './commands/files.js';
import { benchCommand } from './commands/bench.js';
import { BENCH_FLAGS, EVAL_FLAGS, EXPORT_FLAGS, IMPORT_FLAGS, INSPECT_FLAGS, SAMPLE_FLAGS, TRAIN_FLAGS, type Spec } from './flags.js';
import type { Output } from './session.js';

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
}

/** A mistake in how tx was called: reported as one line, exit code 2. */
export class UsageError extends TxError {}

/** A tx command: what `tx --help` says of it, its flags (which parse them and print its help), and what it does. */
interface Command {
  /** One line for `tx --help`. */
  summary: string;
  /** Positional arguments, as the usage line shows them. */
  positional?: string;
  flags: Spec;
  /** Lines printed after the options in `tx COMMAND --help`. */
  notes?: string[];
  /** Returns the exit code, or nothing for 0. */
  run(argv: string[], io: Io): Promise<number | void>;
}

const COMMANDS: Record<string, Command> = {
  train: {
    summary: 'train a model and save checkpoints (with no options: a small GPT on English first names)',
    flags: TRAIN_FLAGS,
    notes: [
      'With no options it trains a small GPT on an embedded corpus of English first names (about a minute on 2 cores), saves a checkpoint in runs/names and prints sampled names. Ctrl-C, SIGTERM or SIGHUP saves, then exits 130, 143 or 129.',
      'Settings only a --config file sets: CONFIG_ONLY.',
    ],
    run: train,
  },
  sample: { summary: 'generate text from a checkpoint', flags: SAMPLE_FLAGS, run: sampleCommand },
  eval: { summary: "loss and perplexity of a checkpoint on a text (a seq2seq model's accuracy)", flags: EVAL_FLAGS, run: evalCommand },
  inspect: { summary: "a text's tokens, logits and every head's attention", flags: INSPECT_FLAGS, run: inspectCommand },
  import: {
    summary: "a nanoGPT state_dict or a Hugging Face GPT-2 folder as a checkpoint",
    positional: 'nanogpt|hf',
    flags: IMPORT_FLAGS,
    notes: [
      'The two forms:',
      '  tx import nanogpt --weights FILE.safetensors --model-args JSON (--vocab-from TEXTFILE | --vocab CHARS) --out DIR',
      '  tx import hf --dir DIR --out DIR',
    ],
    run: importCommand,
  },
  export: { summary: "a checkpoint as the demo site's files, a Hugging Face GPT-2 folder or nanoGPT's", flags: EXPORT_FLAGS, run: exportCommand },
  bench: { summary: 'tokens/s of a training step and of generation, with and without the KV cache', flags: BENCH_FLAGS, run: benchCommand },
};

/** The flags every command takes, handled before the command's own. */
const COMMON_FLAGS: Spec = {
  debug: { type: 'boolean', help: 'print the stack trace of an error' },
  help: { type: 'boolean', help: 'print this help' },
};

/** @tx/trainer's version, from its package.json. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** `tx --help`: every command with its usage line, generated from the flag tables. */
export function help(): string {
  const lines = [
    'tx: train, sample, evaluate and inspect @tx Transformer models',
    '',
    'Usage:',
    ...Object.entries(COMMANDS).flatMap(([name, c]) => usage(name, c, 14)),
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`),
    '',
    '`tx COMMAND --help` describes each option. --out only replaces a folder tx wrote of the same kind',
    '(a checkpoint of the same task, an export); anything else needs --force. TX_MEMORY_BUDGET (e.g. 6GB)',
    'sets the memory a model may need; the default is 80% of free memory (90% of 4 GB on wasm).',
    'Add --debug to any command for stack traces; tx --version prints the version.',
  ];
  return `${lines.join('\n')}\n`;
}

/** `tx COMMAND --help`: its usage line and one line per flag, from its flag table. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const flags = { ...c.flags, ...COMMON_FLAGS };
  const left = (flag: string) => (flags[flag].type === 'boolean' ? `--${flag}` : `--${flag} ${flags[flag].value ?? 'VALUE'}`);
  const width = Math.max(...Object.keys(flags).map((f) => left(f).length));
  const configOnly = Object.keys(TRAIN_FIELDS).filter((field) => !Object.values(TRAIN_FLAGS as Spec).some((f) => f.field === field) && field !== 'json');
  const lines = [
    `tx ${name}: ${c.summary}`,
    '',
    'Usage:',
    ...usage(name, c, 2),
    '',
    'Options:',
    ...Object.keys(flags).flatMap((flag) => wrap(`  ${left(flag).padEnd(width)}  `, `${flags[flag].required ? 'required: ' : ''}${flags[flag].help}`, width + 4)),
    ...(c.notes ? ['', ...c.notes.flatMap((n) => {
      const indent = /^ */.exec(n)![0].length;
      return wrap(' '.repeat(indent), n.trim().replace('CONFIG_ONLY', configOnly.join(', ')), indent + (indent > 0 ? 4 : 0));
    })] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** `tx NAME [POSITIONAL] --flag VALUE [--optional VALUE] ...`, its flags starting at column `column` or after the name. */
function usage(name: string, c: Command, column: number): string[] {
  const words = [...(c.positional ? [c.positional] : [])];
  for (const [flag, f] of Object.entries(c.flags)) {
    const text = f.type === 'boolean' ? `--${flag}` : `--${flag} ${f.value ?? 'VALUE'}`;
    words.push(f.required ? text : `[${text}]`);
  }
  const start = `  tx ${name} `;
  return wrap(start.padEnd(column), words, Math.max(column, start.length));
}

/** `prefix` then the words (a string: split at spaces), to fit 100 columns; continuation lines start at column `hang`. */
function wrap(prefix: string, text: string | string[], hang: number, width = 100): string[] {
  const lines: string[] = [];
  let line = prefix;
  let empty = true;
  for (const word of typeof text === 'string' ? text.split(' ') : text) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(hang) + word;
    } else line += empty ? word : ` ${word}`;
    empty = false;
  }
  return [...lines, line];
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  try {
    const [command, ...rest] = args;
    if (command === undefined || ['--help', '-h', 'help'].includes(command)) {
      const topic = command === 'help' ? rest[0] : undefined; // tx help sample
      io.stdout.write(topic !== undefined && Object.hasOwn(COMMANDS, topic) ? commandHelp(topic) : help());
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const found = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!found) throw new UsageError(`unknown command "${command}" (see tx --help)`);
    if (asksForHelp(rest, found.flags)) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return (await found.run(rest, io)) ?? 0;
  } catch (err) {
    const system = systemError(err);
    const known = err instanceof TxError || system !== null; // TxError: every @tx package's errors, @tx/tokenizer's included
    const message = system ?? (err as Error)?.message ?? String(err);
    io.stderr.write(`tx: ${known ? message : `internal error: ${message}`}\n`);
    if (debug) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return known ? 2 : 1;
  }
}

/**
 * A file-system failure tx did not foresee in detail (a full disk, a folder it
 * may not write, a path under a file) is still the user's to fix, not a bug:
 * "runs/x: cannot rename it (ENOSPC: no space left on device)".
 */
function systemError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code) || typeof e.syscall !== 'string') return null;
  const reason = e.message.startsWith(`${e.code}: `) ? e.message.split(', ')[0] : `${e.code}: ${e.message}`;
  return `${e.path ?? 'a file'}: cannot ${e.syscall} it (${reason})`;
}

export type { Flag, Spec } from './flags.js';

/** --help or -h where a flag may stand (not as the value of a string flag, as in `--prompt -h`). */
function asksForHelp(argv: string[], options: Spec): boolean {
  return argv.some((a, i) => (a === '--help' || a === '-h') && !(i > 0 && /^--[^=]+$/.test(argv[i - 1]) && options[argv[i - 1].slice(2)]?.type === 'string'));
}

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
    throw new UsageError(`${(err as Error).message.split(/\.(?:\s|$)/)[0]} (see tx --help)`); // its first sentence: one line
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

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

async function train(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, TRAIN_FLAGS);
  const flags: TrainSettings = {};
  for (const [flag, { field }] of Object.entries(TRAIN_FLAGS as Spec)) {
    const raw = values[flag];
    if (field && raw !== undefined) (flags as Record<string, unknown>)[field] = checkField(field, raw, `--${flag}`, { text: true });
  }
  const fromFile: TrainSettings = {};
  if (typeof values.config === 'string') {
    Object.assign(fromFile, parseConfigFile(await readTextFile(values.config, '--config', CONFIG_LIMIT), values.config));
  }

  const output: Output = { json: values.json === true, tty: !!io.stdout.isTTY && values.json !== true, write: (s) => void io.stdout.write(s) };
  const resumeDir = flags.resume ?? fromFile.resume;
  const resuming = resumeDir ? await resumedSettings(resumeDir, fromFile, flags, io) : undefined;
  const settings = resuming?.settings ?? resolveSettings([fromFile, flags]);
  if (resumeDir && resuming?.finished) {
    // A finished run has nothing left to train: nothing is written, to --out or to the checkpoint (not even a recovery).
    const { step } = resuming;
    if (output.json) output.write(`${JSON.stringify({ event: 'nothing-to-do', step, maxIters: settings.maxIters, checkpoint: resumeDir })}\n`);
    else output.write(`nothing to do: ${resumeDir} is at step ${step}, ${step === settings.maxIters ? 'which is' : 'past'} --max-iters ${settings.maxIters}; give a larger --max-iters to train on\n`);
    return 0;
  }
  // Where the checkpoint goes is checked before any work: nothing the user has is replaced by surprise.
  const reads = [
    ...(settings.data ? [{ flag: '--data', path: settings.data }] : []),
    ...(typeof values.config === 'string' ? [{ flag: '--config', path: values.config }] : []),
    ...(resumeDir && resolve(resumeDir) !== resolve(settings.out) ? [{ flag: '--resume checkpoint', path: resumeDir }] : []),
  ];
  await checkOut(settings.out, { format: 'tx-checkpoint', task: settings.task, force: values.force === true, reads });
  await recoverFolder(settings.out); // a crashed save's newest complete copy becomes the folder; stale temp folders go

  const backend = await initBackend({ prefer: settings.backend, threads: threadsFlag(values) });
  if (!output.json && backend.fellBackFrom) output.write(`backend ${backend.backend} (${backend.fellBackFrom} unavailable: ${backend.reason})\n`);
  const resumed = resumeDir ? await openCheckpoint(resumeDir, memoryBudget(backend.backend), { optimizer: true }) : undefined;
  const options = { overwrite: values.force === true };
  const trainTask = settings.task === 'names' || settings.task === 'text' ? trainLanguageModel : settings.task === 'coref' ? trainCoref : trainSeq2Seq;
  const result = await trainTask(settings, output, resumed, options);
  return result.signal ? 128 + constants.signals[result.signal] : 0; // SIGINT 130, SIGTERM 143, SIGHUP 129
}

/**
 * A resumed run keeps its saved settings; flags may change the budget, output,
 * backend and the corpus's path. `finished`: the checkpoint's step is already
 * at or past maxIters, so there is nothing to train.
 */
async function resumedSettings(resumeDir: string, fromFile: TrainSettings, flags: TrainSettings, io: Io) {
  const { config } = await readCheckpointConfig(resumeDir);
  const kept: Array<keyof typeof TRAIN_FIELDS> = ['maxIters', 'evalInterval', 'backend', 'out', 'data'];
  const ignored = [...new Set([...Object.keys(fromFile), ...Object.keys(flags)])].filter((k) => k !== 'resume' && !kept.includes(k as keyof typeof TRAIN_FIELDS));
  if (ignored.length > 0) {
    io.stderr.write(`tx: note: a resumed run keeps its checkpoint's settings; ignoring ${ignored.map((k) => `--${kebab(k)}`).join(', ')}\n`);
  }
  const settings = resolveSettings([config.settings as TrainSettings, pickKeys(fromFile, kept), pickKeys(flags, kept)]);
  if (!flags.out && !fromFile.out) settings.out = resumeDir;
  const step = config.training.step;
  if (step >= settings.maxIters) return { settings, step, finished: true };
  if (settings.data && !flags.data && !fromFile.data) {
    await access(settings.data).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--resume ${resumeDir}: its corpus ${settings.data} cannot be read (${err.code}); give its new path with --data`);
    });
  }
  return { settings, step, finished: false };
}

function pickKeys(s: TrainSettings, keys: Array<keyof typeof TRAIN_FIELDS>): TrainSettings {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) as TrainSettings;
}
