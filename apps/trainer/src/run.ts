// The `tx` command line: parse, dispatch, and turn every expected failure
// into one line on stderr with exit code 2 (a stack trace only with --debug).
import { parseArgs } from 'node:util';
import { readTextFile } from './read.js';
import { TxError, initBackend } from '@tx/core';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { trainLanguageModel } from './lm.js';
import { memoryBudget } from './budget.js';
import { openCheckpoint, readCheckpointConfig } from './model-io.js';
import { checkOut } from './out.js';
import { recoverFolder } from '@tx/train/node';
import { TRAIN_FIELDS, checkField, parseConfigFile, type TrainSettings } from './schema.js';
import { trainSeq2Seq } from './seq2seq-train.js';
import { resolveSettings } from './settings.js';
import { sampleCommand, evalCommand, inspectCommand } from './commands/use.js';
import { importCommand, exportCommand } from './commands/files.js';
import { benchCommand } from './commands/bench.js';
import type { Output } from './session.js';

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
}

/** A mistake in how tx was called: reported as one line, exit code 2. */
export class UsageError extends TxError {}

export const HELP = `tx: train, sample, evaluate and inspect @tx Transformer models

Usage:
  tx train    [--task names|text|dates|copy|reverse] [--data FILE] [--tokenizer char|bpe] [--vocab-size N]
              [--preset NAME] [--config FILE] [--max-iters N] [--batch-size N] [--lr X] [--eval-interval N]
              [--out DIR] [--force] [--resume DIR] [--backend auto|webgpu|wasm|cpu] [--seed N] [--json]
  tx sample   --checkpoint DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
              [--greedy] [--beams N] [--seed N] [--context-overflow crop|restart] [--json]
  tx eval     --checkpoint DIR [--data FILE]
  tx inspect  --checkpoint DIR --text TEXT [--json]
  tx import nanogpt --weights FILE.safetensors --model-args JSON (--vocab-from TEXTFILE | --vocab CHARS) --out DIR [--force]
  tx export   --checkpoint DIR --out DIR [--force]
  tx bench    [--preset NAME] [--backend auto|webgpu|wasm|cpu] [--batch-size N] [--steps N] [--new-tokens N] [--json]

With no options, tx train trains a small GPT on an embedded corpus of English first names
(about a minute on 2 cores), saves a checkpoint in runs/names and prints sampled names.
--out only replaces a folder tx wrote of the same kind (a checkpoint of the same task, an export);
anything else needs --force. Ctrl-C or SIGTERM during training saves, then exits 130 or 143.
TX_MEMORY_BUDGET (e.g. 6GB) sets the memory a model may need; the default is 80% of free memory
(90% of 4 GB on wasm). Add --debug to any command for stack traces.
`;

/** A command returns its exit code, or nothing for 0. */
const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number | void>> = {
  train,
  sample: sampleCommand,
  eval: evalCommand,
  inspect: inspectCommand,
  import: importCommand,
  export: exportCommand,
  bench: benchCommand,
};

export async function runCli(argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  try {
    const [command, ...rest] = args;
    if (command === undefined || ['--help', '-h', 'help'].includes(command)) {
      io.stdout.write(HELP);
      return 0;
    }
    if (command === '--version') {
      io.stdout.write('0.0.0\n');
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}" (see tx --help)`);
    return (await run(rest, io)) ?? 0;
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

export type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** node:util parseArgs, strict, with its long messages cut to the part that names the flag. */
export function parse(argv: string[], options: Spec, positionals = 0): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  // "--seed -1": a negative number is the flag's value (node reads it as an ambiguous option).
  const args = [...argv];
  for (let i = args.length - 1; i > 0; i--) {
    if (/^-\.?\d/.test(args[i]) && args[i - 1].startsWith('--') && options[args[i - 1].slice(2)]?.type === 'string') args.splice(i - 1, 2, `${args[i - 1]}=${args[i]}`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('. ')[0]} (see tx --help)`);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}" (see tx --help)`);
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

export function required(values: Record<string, unknown>, flag: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag} is required (see tx --help)`);
  return v;
}

/** A flag that must be a positive number (or integer), or undefined when absent. */
export function positive(values: Record<string, unknown>, flag: string, integer: boolean): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return n;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

async function train(argv: string[], io: Io): Promise<number> {
  const flagNames = ['task', 'data', 'tokenizer', 'vocabSize', 'preset', 'maxIters', 'batchSize', 'lr', 'evalInterval', 'out', 'resume', 'backend', 'seed'] as const;
  const spec: Spec = Object.fromEntries(flagNames.map((n) => [kebab(n), { type: 'string' as const }]));
  spec.config = { type: 'string' };
  spec.json = { type: 'boolean' };
  spec.force = { type: 'boolean' };
  const { values } = parse(argv, spec);
  const flags: TrainSettings = {};
  for (const name of flagNames) {
    const raw = values[kebab(name)];
    if (raw !== undefined) (flags as Record<string, unknown>)[name] = checkField(name, raw, `--${kebab(name)}`);
  }
  const fromFile: TrainSettings = {};
  if (typeof values.config === 'string') {
    Object.assign(fromFile, parseConfigFile(await readTextFile(values.config, '--config'), values.config));
  }

  const output: Output = { json: values.json === true, tty: !!io.stdout.isTTY && values.json !== true, write: (s) => void io.stdout.write(s) };
  const resumeDir = flags.resume ?? fromFile.resume;
  const settings = resumeDir ? await resumedSettings(resumeDir, fromFile, flags, io) : resolveSettings([fromFile, flags]);
  // Where the checkpoint goes is checked before any work: nothing the user has is replaced by surprise.
  const reads = [
    ...(settings.data ? [{ flag: '--data', path: settings.data }] : []),
    ...(typeof values.config === 'string' ? [{ flag: '--config', path: values.config }] : []),
    ...(resumeDir && resolve(resumeDir) !== resolve(settings.out) ? [{ flag: '--resume checkpoint', path: resumeDir }] : []),
  ];
  await checkOut(settings.out, { format: 'tx-checkpoint', task: settings.task, force: values.force === true, reads });
  await recoverFolder(settings.out); // a crashed save's newest complete copy becomes the folder; stale temp folders go

  const backend = await initBackend({ prefer: settings.backend });
  if (!output.json && backend.fellBackFrom) output.write(`backend ${backend.backend} (${backend.fellBackFrom} unavailable: ${backend.reason})\n`);
  const resumed = resumeDir ? await openCheckpoint(resumeDir, memoryBudget(backend.backend)) : undefined;
  const options = { overwrite: values.force === true };
  const result = settings.task === 'names' || settings.task === 'text' ? await trainLanguageModel(settings, output, resumed, options) : await trainSeq2Seq(settings, output, resumed, options);
  return result.signal === 'SIGINT' ? 130 : result.signal === 'SIGTERM' ? 143 : 0;
}

/** A resumed run keeps its saved settings; flags may change the budget, output, backend and the corpus's path. */
async function resumedSettings(resumeDir: string, fromFile: TrainSettings, flags: TrainSettings, io: Io) {
  const { config } = await readCheckpointConfig(resumeDir);
  const kept: Array<keyof typeof TRAIN_FIELDS> = ['maxIters', 'evalInterval', 'backend', 'out', 'data'];
  const ignored = [...new Set([...Object.keys(fromFile), ...Object.keys(flags)])].filter((k) => k !== 'resume' && !kept.includes(k as keyof typeof TRAIN_FIELDS));
  if (ignored.length > 0) {
    io.stderr.write(`tx: note: a resumed run keeps its checkpoint's settings; ignoring ${ignored.map((k) => `--${kebab(k)}`).join(', ')}\n`);
  }
  const settings = resolveSettings([config.settings as TrainSettings, pickKeys(fromFile, kept), pickKeys(flags, kept)]);
  if (!flags.out && !fromFile.out) settings.out = resumeDir;
  if (settings.data && !flags.data && !fromFile.data) {
    await access(settings.data).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--resume ${resumeDir}: its corpus ${settings.data} cannot be read (${err.code}); give its new path with --data`);
    });
  }
  return settings;
}

function pickKeys(s: TrainSettings, keys: Array<keyof typeof TRAIN_FIELDS>): TrainSettings {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) as TrainSettings;
}
