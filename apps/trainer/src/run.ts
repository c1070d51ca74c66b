// The `tx` command line: parse, dispatch, and turn every expected failure
// into one line on stderr with exit code 2 (a stack trace only with --debug).
import { parseArgs } from 'node:util';
import { readTextFile } from './read.js';
import { TxError, initBackend } from '@tx/core';
import { TokenizerError } from '@tx/tokenizer';
import { trainLanguageModel } from './lm.js';
import { openCheckpoint, readCheckpointConfig } from './model-io.js';
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
              [--out DIR] [--resume DIR] [--backend auto|webgpu|wasm|cpu] [--seed N] [--json]
  tx sample   --checkpoint DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
              [--greedy] [--beams N] [--seed N] [--json]
  tx eval     --checkpoint DIR [--data FILE]
  tx inspect  --checkpoint DIR --text TEXT [--json]
  tx import nanogpt --weights FILE.safetensors --model-args JSON (--vocab-from TEXTFILE | --vocab CHARS) --out DIR
  tx export   --checkpoint DIR --out DIR
  tx bench    [--preset NAME] [--backend auto|webgpu|wasm|cpu] [--batch-size N] [--steps N] [--json]

With no options, tx train trains a small GPT on an embedded corpus of English first names
(about a minute on 2 cores), saves a checkpoint in runs/names and prints sampled names.
Add --debug to any command for stack traces.
`;

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<void>> = {
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
    await run(rest, io);
    return 0;
  } catch (err) {
    const known = err instanceof TxError || err instanceof TokenizerError;
    const message = (err as Error)?.message ?? String(err);
    io.stderr.write(`tx: ${known ? message : `internal error: ${message}`}\n`);
    if (debug) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return known ? 2 : 1;
  }
}

export type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** node:util parseArgs, strict, with its long messages cut to the part that names the flag. */
export function parse(argv: string[], options: Spec, positionals = 0): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals > 0 });
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

async function train(argv: string[], io: Io): Promise<void> {
  const flagNames = ['task', 'data', 'tokenizer', 'vocabSize', 'preset', 'maxIters', 'batchSize', 'lr', 'evalInterval', 'out', 'resume', 'backend', 'seed'] as const;
  const spec: Spec = Object.fromEntries(flagNames.map((n) => [kebab(n), { type: 'string' as const }]));
  spec.config = { type: 'string' };
  spec.json = { type: 'boolean' };
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
  const saved = resumeDir ? await readCheckpointConfig(resumeDir) : undefined;
  // A resumed run keeps its saved settings; flags may still change the budget, output and backend.
  const settings = saved
    ? resolveSettings([saved.settings as TrainSettings, pickKeys(fromFile, ['maxIters', 'evalInterval', 'backend', 'out']), pickKeys(flags, ['maxIters', 'evalInterval', 'backend', 'out'])])
    : resolveSettings([fromFile, flags]);
  if (saved && !flags.out && !fromFile.out) settings.out = resumeDir!;
  const backend = await initBackend({ prefer: settings.backend });
  if (!output.json && backend.fellBackFrom) output.write(`backend ${backend.backend} (${backend.fellBackFrom} unavailable: ${backend.reason})\n`);
  const resumed = resumeDir ? await openCheckpoint(resumeDir) : undefined;
  if (settings.task === 'names' || settings.task === 'text') await trainLanguageModel(settings, output, resumed);
  else await trainSeq2Seq(settings, output, resumed);
}

function pickKeys(s: TrainSettings, keys: Array<keyof typeof TRAIN_FIELDS>): TrainSettings {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) as TrainSettings;
}
