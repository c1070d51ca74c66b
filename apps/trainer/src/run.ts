// The `tx` command line: parse, dispatch, and turn every expected failure
// into one line on stderr with exit code 2 (a stack trace only with --debug).
import { readFileSync } from 'node:fs';
import { TxError } from '@tx/core';
import { UsageError, type Io } from './args.js';
import { benchCommand } from './commands/bench.js';
import { importCommand, exportCommand } from './commands/files.js';
import { trainCommand } from './commands/train.js';
import { sampleCommand, evalCommand, inspectCommand } from './commands/use.js';
import { BENCH_FLAGS, EVAL_FLAGS, EXPORT_FLAGS, IMPORT_FLAGS, INSPECT_FLAGS, SAMPLE_FLAGS, TRAIN_FLAGS, type Spec } from './flags.js';
import { TRAIN_FIELDS } from './schema.js';
import { closest } from './suggest.js';

// The command-line helpers live in args.ts (commands import them from there, so no import goes back
// from a command to this file); they are re-exported here for code that still names run.js.
export { UsageError, parse, positive, required, threadsFlag, type Io } from './args.js';

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
    run: trainCommand,
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
    if (!found) {
      const near = closest(command, Object.keys(COMMANDS)); // `tx trian` -> "train" (suggest.ts)
      throw new UsageError(`unknown command "${command}"${near ? `; did you mean "${near}"?` : ''} (see tx --help)`);
    }
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
