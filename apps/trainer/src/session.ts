// The part of `tx train` shared by every task: run @tx/train's loop, report
// events (log lines and a progress line, or JSON lines), save a checkpoint at
// every eval and at the end, and on Ctrl-C stop between steps, save, and say
// how to resume.
//
// The loop runs with the output's logInterval: it reads the loss back from the
// device only every that many steps (and before an eval, a stop, the last
// step), and reports those steps in one event, their mean loss and time.
// Nothing is read back between log lines, so a GPU is never stalled inside
// the interval (on webgpu a step is then dispatches only).
import { Rng, tf } from '@tx/core';
import { AdamW, cosineWithWarmup, trainLoop, TrainingError, type TrainEvent } from '@tx/train';
import { saveCheckpoint } from '@tx/train/node';
import type { Tokenizer } from '@tx/tokenizer';
import type { AnyModel, ModelSpec } from '@tx/blocks';
import type { OpenedCheckpoint, TxCheckpointConfig } from './model-io.js';
import type { ResolvedSettings } from './settings.js';
import { renderLog, renderProgress, smooth, type LogInterval } from './progress.js';

export interface Output {
  json: boolean;
  write(s: string): void;
  /** True when stdout is a terminal: redraw one progress line. */
  tty: boolean;
  /**
   * The loss is read back every this many steps, and reported then: a log line (text) or a
   * step event (JSON) for those steps. Absent: read every step; text prints no log line.
   */
  logInterval?: number;
}

export interface SessionOptions<B> {
  settings: ResolvedSettings;
  model: AnyModel;
  spec: ModelSpec;
  tokenizer: Tokenizer;
  loss: (batch: B) => tf.Scalar;
  sample: (split: 'train' | 'val', rng: Rng) => B;
  tokensPerBatch: number | ((batch: B) => number);
  output: Output;
  /** The checkpoint a resumed run continues: its step, batch and dropout Rngs, and optimizer moments are restored here. */
  resumed?: OpenedCheckpoint;
  /** Extra fields for each eval event (e.g. exact-match accuracy). */
  evalExtras?: () => Promise<Record<string, number>>;
  /** Extra fields for the checkpoint's config.json. */
  extraConfig?: Record<string, unknown>;
  /** Replace --out even when it is not a checkpoint tx wrote (--force). */
  overwrite?: boolean;
}

export interface SessionResult {
  step: number;
  aborted: boolean;
  valLoss: number;
  /** The signal that stopped the run (after saving), if one did. */
  signal?: StopSignal;
}

/** The signals that stop a run between steps, after which it saves: Ctrl-C, `kill`, and a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

let stopping: StopSignal | undefined;

/**
 * The signal a run is stopping on, if one came: the process saves and exits
 * with 128 + its number. Standard output may be gone by then (a hung-up
 * terminal), so cli.ts lets the save finish instead of exiting on a failed write.
 */
export function stoppingOn(): StopSignal | undefined {
  return stopping;
}

export async function runSession<B>(opts: SessionOptions<B>): Promise<SessionResult> {
  const { settings: s, model, output } = opts;
  const training = opts.resumed?.config.training;
  const rng = training ? Rng.fromState(training.rngState) : new Rng(s.seed + 1);
  if (training) model.rng.setState(training.modelRngState);
  const optimizer = new AdamW(model.namedParameters(), { lr: s.lr, beta2: s.beta2, weightDecay: s.weightDecay });
  const moments = opts.resumed?.raw.optimizerState;
  if (moments) {
    optimizer.loadStateDict(moments); // copies the moments into the optimizer's own variables
    tf.dispose(Object.values(moments.tensors));
  }
  const schedule = cosineWithWarmup({ lr: s.lr, minLr: s.minLr, warmupIters: s.warmupIters, decayIters: Math.max(s.maxIters, s.warmupIters + 1) });
  // Ctrl-C, `kill` and a hang-up all stop between steps and save; the exit code then says which (130, 143, 129).
  const controller = new AbortController();
  let signal: SessionResult['signal'];
  const onSignal = (name: StopSignal) => {
    signal ??= name;
    stopping ??= name;
    controller.abort();
  };
  for (const name of STOP_SIGNALS) process.once(name, onSignal);

  let valLoss = NaN;
  let step = training?.step ?? 0;
  let msPerStep: number | undefined;
  let interval: LogInterval = { steps: 0, loss: 0, ms: 0, tokens: 0 };
  let savedStep: number | null = null;
  const save = async () => {
    const config: TxCheckpointConfig = {
      format: 'tx-checkpoint',
      version: 1,
      task: s.task,
      settings: s,
      model: opts.spec,
      training: { step, rngState: rng.getState(), modelRngState: model.rng.getState(), valLoss },
      ...opts.extraConfig,
    };
    await saveCheckpoint(s.out, { model, optimizer, config, tokenizer: opts.tokenizer.toJSON() }, { overwrite: opts.overwrite });
    savedStep = step;
  };

  const emit = (event: Record<string, unknown>) => output.json && output.write(`${JSON.stringify(event)}\n`);
  let aborted = false;
  try {
    for await (const e of trainLoop({
      model,
      optimizer,
      rng,
      schedule,
      loss: opts.loss,
      sample: opts.sample,
      tokensPerBatch: opts.tokensPerBatch,
      maxIters: s.maxIters,
      startIter: step,
      gradClip: s.gradClip,
      evalInterval: s.evalInterval,
      evalIters: s.evalIters,
      evalSeed: s.seed,
      signal: controller.signal,
      logInterval: output.logInterval ?? 1,
    })) {
      if (e.event === 'step') {
        step = e.step;
        // An event reports `steps` steps (their mean loss and ms): weighed as that many, for the ETA and the
        // log line (smoothing n steps of the same time at 0.1 each is one step at 1 - 0.9^n).
        const n = e.steps ?? 1;
        msPerStep = smooth(msPerStep, e.ms, 1 - 0.9 ** n);
        emit(e);
        interval = { steps: interval.steps + n, loss: interval.loss + e.loss * n, ms: interval.ms + e.ms * n, tokens: interval.tokens + (e.tokensPerSecond * e.ms * n) / 1000 };
        // A log line stays (in a terminal it takes the progress line's place, which is redrawn below it).
        const log = !output.json && output.logInterval && step % output.logInterval === 0 ? `${renderLog(step, s.maxIters, interval)}\n` : '';
        if (log) interval = { steps: 0, loss: 0, ms: 0, tokens: 0 };
        if (!output.json && output.tty) output.write(`\r${log ? `\x1b[K${log}` : ''}${renderProgress({ ...e, maxIters: s.maxIters, msPerStep })}\x1b[K`);
        else if (log) output.write(log);
      } else if (e.event === 'eval') {
        valLoss = e.valLoss;
        const extras = opts.evalExtras ? await opts.evalExtras() : {};
        emit({ ...e, ...extras });
        if (!output.json) output.write(`${output.tty ? '\r\x1b[K' : ''}${describeEval(e, extras)}\n`);
        await save();
      } else if (e.event === 'done') {
        aborted = e.aborted;
      }
    }
    if (aborted || savedStep !== step) await save(); // the last step, or a resumed run that had nothing left to do
    if (aborted) {
      const resume = `pnpm tx train --resume ${s.out}`;
      if (output.json) emit({ event: 'interrupted', signal, step, checkpoint: s.out, resume });
      else output.write(`${output.tty ? '\r\x1b[K' : ''}interrupted (${signal ?? 'stopped'}) at step ${step}: checkpoint saved to ${s.out}\nresume with: ${resume}\n`);
    }
  } catch (err) {
    if (err instanceof TrainingError) throw new TrainingError(`${err.message} (${s.out})`);
    throw err;
  } finally {
    for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
    optimizer.dispose();
  }
  return { step, aborted, valLoss, signal };
}

function describeEval(e: Extract<TrainEvent, { event: 'eval' }>, extras: Record<string, number>): string {
  const more = Object.entries(extras).map(([k, v]) => `, ${k} ${v.toFixed(4)}`).join('');
  return `step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)}${more}`;
}
