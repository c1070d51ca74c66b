import { parseArgs } from 'node:util';
import { TxError, type BackendPreference } from '@tx/core';
import { trainNames, type TrainEvent } from './train-names.js';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** A mistake in how tx was called: reported as one line, exit code 2. */
export class UsageError extends TxError {}

const HELP = `tx: train, sample and inspect @tx Transformer models

Usage:
  tx train [options]     train the default model on the embedded names corpus and print samples
  tx --help | --version

Options for train:
  --max-iters N       optimisation steps (default 1000)
  --batch-size N      examples per step (default 512)
  --lr X              learning rate (default 0.1)
  --eval-interval N   steps between evaluations (default 250)
  --seed N            random seed (default 1337)
  --backend NAME      auto | webgpu | wasm | cpu (default auto)
  --out DIR           checkpoint folder (default runs/names)
  --json              one JSON event per line instead of text
  --debug             show stack traces on errors
`;

export async function runCli(argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(HELP);
      return 0;
    }
    if (command === '--version') {
      io.stdout.write('0.0.0\n');
      return 0;
    }
    if (command === 'train') return await train(rest, io);
    throw new UsageError(`unknown command "${command}" (see tx --help)`);
  } catch (err) {
    const known = err instanceof TxError;
    io.stderr.write(`tx: ${known ? (err as Error).message : String((err as Error)?.message ?? err)}\n`);
    if (debug) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return known ? 2 : 1;
  }
}

async function train(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    'max-iters': { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '512' },
    lr: { type: 'string', default: '0.1' },
    'eval-interval': { type: 'string', default: '250' },
    seed: { type: 'string', default: '1337' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'runs/names' },
    json: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
  });
  const backend = values.backend as string;
  if (!['auto', 'webgpu', 'wasm', 'cpu'].includes(backend)) throw new UsageError(`--backend must be auto, webgpu, wasm or cpu, got "${backend}"`);
  const json = values.json as boolean;
  const print = (event: TrainEvent) => io.stdout.write(json ? `${JSON.stringify(event)}\n` : describe(event));
  await trainNames({
    maxIters: positiveInt(values['max-iters'], '--max-iters'),
    batchSize: positiveInt(values['batch-size'], '--batch-size'),
    lr: positiveNumber(values.lr, '--lr'),
    evalInterval: positiveInt(values['eval-interval'], '--eval-interval'),
    seed: positiveInt(values.seed, '--seed', 0),
    backend: backend as BackendPreference,
    out: values.out as string,
    samples: 10,
    onEvent: print,
  });
  return 0;
}

function describe(e: TrainEvent): string {
  switch (e.event) {
    case 'start':
      return `backend ${e.backend}${e.fellBackFrom ? ` (fell back from ${e.fellBackFrom}: ${e.reason})` : ''}\n` +
        `names corpus: ${e.trainPairs} train / ${e.valPairs} val character pairs, vocabulary ${e.vocabSize}, ${e.parameters} parameters\n`;
    case 'step':
      return e.step % 100 === 0 ? `step ${e.step}: loss ${e.loss.toFixed(4)}, ${e.ms.toFixed(1)} ms\n` : '';
    case 'eval':
      return `eval @ ${e.step}: train ${e.trainLoss.toFixed(4)}, val ${e.valLoss.toFixed(4)}\n`;
    case 'sample':
      return `  ${e.text}\n`;
    case 'done':
      return `checkpoint saved to ${e.checkpoint} (val loss ${e.valLoss.toFixed(4)})\n`;
  }
}

type Spec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

function parse(argv: string[], options: Spec): { values: Record<string, string | boolean | undefined> } {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    // node:util's messages are long; keep the part that names the flag.
    throw new UsageError(`${(err as Error).message.split('. ')[0]} (see tx --help)`);
  }
}

function positiveInt(raw: unknown, flag: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function positiveNumber(raw: unknown, flag: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${raw}"`);
  return n;
}
