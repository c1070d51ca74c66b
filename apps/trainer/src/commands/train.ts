// `tx train`: settings from flags and --config (or a checkpoint being
// resumed), --out checked before any work, then the task's training session.
import { constants } from 'node:os';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { initBackend } from '@tx/core';
import { recoverFolder } from '@tx/train/node';
import { parse, positive, threadsFlag, UsageError, type Io } from '../args.js';
import { memoryBudget } from '../budget.js';
import { trainCoref } from '../coref-train.js';
import { DEFAULT_LOG_INTERVAL, TRAIN_FLAGS, type Spec } from '../flags.js';
import { trainLanguageModel } from '../lm.js';
import { openCheckpoint, readCheckpointConfig } from '../model-io.js';
import { checkOut } from '../out.js';
import { CONFIG_LIMIT, readTextFile } from '../read.js';
import { TRAIN_FIELDS, checkField, parseConfigFile, type TrainSettings } from '../schema.js';
import { trainSeq2Seq } from '../seq2seq-train.js';
import type { Output } from '../session.js';
import { resolveSettings } from '../settings.js';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `tx train ...`: returns the exit code (0, or 128 + the signal that stopped the run after saving). */
export async function trainCommand(argv: string[], io: Io): Promise<number> {
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

  // The loss is read back from the device only every logInterval steps (session.ts). Text prints a
  // log line then (default every 100 steps). --json reports every step, as it always has, unless
  // --log-interval is given: then one step event per interval (mean loss, `steps`), read back as rarely.
  const asked = positive(values, 'log-interval', true);
  const json = values.json === true;
  const logInterval = json ? asked : (asked ?? DEFAULT_LOG_INTERVAL);
  const output: Output = { json, tty: !!io.stdout.isTTY && !json, logInterval, write: (s) => void io.stdout.write(s) };
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
