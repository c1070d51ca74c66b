// The training loop, as an async iterator of typed events:
//
//   for await (const e of trainLoop({ model, loss, sample, optimizer, schedule, maxIters }))
//     if (e.event === 'step') console.log(e.step, e.loss);
//
// Each iteration: gradAccumSteps micro-batches -> mean gradients -> global-norm
// clipping -> AdamW at the schedule's lr. Every evalInterval steps (and at the
// end) it estimates train and val loss over evalIters batches with dropout
// off. It stops cleanly between steps when `signal` aborts, and throws a
// TrainingError on a NaN or infinite loss, before anything is updated with it.
//
// Reading a value back to JavaScript stalls a GPU until it has drained its
// queue. With `logInterval` n > 1 the loop reads nothing inside a step: each
// step's loss and gradient norm stay tensors, and every n steps (and before an
// eval, an abort's end, the last step) one read fetches them all, and one
// 'step' event reports their mean (`steps` says over how many). A non-finite
// loss is then found at that read: the TrainingError names its step. On
// webgpu, @tx's AdamW kernel has skipped every update whose gradient norm was
// not finite; elsewhere later steps may have been applied, so resume from the
// last checkpoint. The default, 1, reads every step and checks before applying.
import { Rng, TxError, ValueError, tf, type Module } from '@tx/core';
import type { AdamW } from './adamw.js';
import type { Schedule } from './schedule.js';

/** Training cannot go on (the loss is NaN or infinite); nothing of the failing step was applied. */
export class TrainingError extends TxError {}

/** What trainLoop yields: a step, an evaluation, or the end. */
export type TrainEvent =
  | {
      event: 'step';
      step: number;
      /** The mean loss of the steps this event reports (one, unless logInterval > 1). */
      loss: number;
      lr: number;
      /** The last reported step's gradient norm before clipping (NaN without clipping). */
      gradNorm: number;
      /** Mean milliseconds per step (with logInterval > 1, the read's wait for the device shared among the steps). */
      ms: number;
      tokensPerSecond: number;
      /** How many steps this event reports, when logInterval > 1 (absent: one). */
      steps?: number;
    }
  | { event: 'eval'; step: number; trainLoss: number; valLoss: number }
  | { event: 'done'; step: number; aborted: boolean };

/** Options of trainLoop: model, optimizer, loss, batches, schedule, evaluation and stopping. */
export interface TrainLoopOptions<B> {
  model: Module;
  /** Mean loss of the model on a batch (forward pass + cross-entropy). */
  loss: (batch: NoInfer<B>) => tf.Scalar;
  /** Draw a batch of a split. The batch type is inferred from here only (see trainLoop on the order of the fields). */
  sample: (split: 'train' | 'val', rng: Rng) => B;
  /** Tokens in a batch, for tokens/s: a number, or counted from each batch (padded seq2seq batches vary). */
  tokensPerBatch: number | ((batch: NoInfer<B>) => number);
  optimizer: AdamW;
  schedule: Schedule;
  rng: Rng;
  maxIters: number;
  /** The iteration to start from (a resumed run's saved step). Default 0. */
  startIter?: number;
  gradAccumSteps?: number;
  /** Clip the global gradient norm to this (0 = off). Default 1.0, as nanoGPT. */
  gradClip?: number;
  evalInterval?: number;
  evalIters?: number;
  /**
   * Eval batches come from Rng(evalSeed + step), not from `rng`: evaluating
   * never shifts the training batches, so a resumed run stays exact whether or
   * not an eval happened at the step where it stopped.
   */
  evalSeed?: number;
  signal?: AbortSignal;
  /**
   * Read the loss and gradient norm back every this many steps, with one 'step' event for
   * them, and nothing inside a step (see the header). Default 1: every step, checked before
   * its update is applied.
   */
  logInterval?: number;
}

// The batch type B comes from `sample` alone (NoInfer elsewhere). TypeScript
// types an object literal's arrow functions in the order they are written, so
// a `loss` written before `sample` must be typed before B is known: B then
// defaults to `any` (it compiles; the batch in `loss` is not checked). Written
// after `sample`, `loss` gets the batch's real type.
/** nanoGPT's training loop as an async iterator of TrainEvent: scheduled steps with gradient accumulation and clipping, evaluations, and a stop on its AbortSignal. */
export async function* trainLoop<B = any>(opts: TrainLoopOptions<B>): AsyncGenerator<TrainEvent> {
  const { model, optimizer, rng, maxIters } = opts;
  const accum = opts.gradAccumSteps ?? 1;
  const gradClip = opts.gradClip ?? 1.0;
  const evalInterval = opts.evalInterval ?? 250;
  const logInterval = opts.logInterval ?? 1;
  if (!Number.isInteger(logInterval) || logInterval < 1) throw new ValueError(`trainLoop: logInterval must be a positive integer, got ${logInterval}`);
  const update = trainStep({ model, optimizer, loss: opts.loss, gradClip });
  const deferred = deferredTrainStep({ model, optimizer, loss: opts.loss, gradClip });
  // logInterval > 1: the steps not yet read back, and the last one's gradient norm (the only one reported).
  let pending: Array<{ step: number; loss: tf.Scalar; lr: number; ms: number; tokens: number }> = [];
  let lastNorm: tf.Scalar | null = null;
  const flush = async (): Promise<TrainEvent | null> => {
    if (pending.length === 0) return null;
    const taken = pending;
    pending = [];
    const last = taken[taken.length - 1];
    const read = taken.map((p) => p.loss).concat(lastNorm ? [lastNorm] : []);
    lastNorm = null;
    // The read waits for the GPU to finish the interval's steps (queued, not done, when each step's
    // own time was taken): that wait is the steps' time too, so ms and tokens/s count it.
    const t0 = performance.now();
    let losses: number[];
    try {
      losses = await readAll(read);
    } finally {
      tf.dispose(read); // taken out of pending and lastNorm already: a failed read must not leak them
    }
    const readMs = performance.now() - t0;
    const bad = losses.findIndex((l, i) => i < taken.length && !Number.isFinite(l));
    if (bad >= 0) {
      throw new TrainingError(`loss is ${losses[bad]} at step ${taken[bad].step - 1} (lr ${taken[bad].lr.toExponential(3)}), found at the read of step ${last.step} (logInterval ${logInterval}): training stopped; resume from the last saved checkpoint, which is untouched`);
    }
    const ms = taken.reduce((t, p) => t + p.ms, 0) + readMs;
    const tokens = taken.reduce((t, p) => t + p.tokens, 0);
    const loss = losses.slice(0, taken.length).reduce((a, b) => a + b, 0) / taken.length;
    const gradNorm = read.length > taken.length ? losses[taken.length] : NaN;
    return { event: 'step', step: last.step, loss, lr: last.lr, gradNorm, ms: ms / taken.length, tokensPerSecond: (tokens * 1000) / ms, steps: taken.length };
  };

  let step = opts.startIter ?? 0;
  model.train();
  try {
    while (step < maxIters) {
      if (opts.signal?.aborted) {
        const reported = await flush();
        if (reported) yield reported;
        yield { event: 'done', step, aborted: true };
        return;
      }
      const t0 = performance.now();
      const lr = opts.schedule(step);
      const batches = Array.from({ length: accum }, () => opts.sample('train', rng));
      const tokens = batches.reduce((n, b) => n + (typeof opts.tokensPerBatch === 'function' ? opts.tokensPerBatch(b) : opts.tokensPerBatch), 0);
      const evalNext = (step + 1) % evalInterval === 0 || step + 1 === maxIters;
      if (logInterval === 1) {
        const { loss, gradNorm } = await update(batches, lr, step);
        step += 1;
        const ms = performance.now() - t0;
        yield { event: 'step', step, loss, lr, gradNorm, ms, tokensPerSecond: (tokens * 1000) / ms };
      } else {
        const { loss, gradNorm } = deferred(batches, lr);
        step += 1;
        lastNorm?.dispose();
        lastNorm = gradNorm;
        pending.push({ step, loss, lr, ms: performance.now() - t0, tokens });
        if (step % logInterval === 0 || evalNext) {
          const reported = await flush();
          if (reported) yield reported;
        }
      }
      if (evalNext) {
        yield { event: 'eval', step, ...(await estimateLoss({ ...opts, rng: new Rng((opts.evalSeed ?? 0x5eed) + step) })) };
      }
      await yieldToEventLoop();
    }
  } finally {
    tf.dispose(pending.map((p) => p.loss));
    lastNorm?.dispose();
  }
  yield { event: 'done', step, aborted: false };
}

/** Scalars read back in one transfer (a stack, then one read; one scalar is read as it is, with no stack). */
async function readAll(scalars: tf.Tensor[]): Promise<number[]> {
  if (scalars.length === 1) return Array.from(await scalars[0].data());
  const all = tf.stack(scalars);
  try {
    return Array.from(await all.data());
  } finally {
    all.dispose();
  }
}

/** Options of trainStep: model, optimizer, loss and gradient clipping. */
export interface TrainStepOptions<B> {
  model: Module;
  optimizer: AdamW;
  loss: (batch: B) => tf.Scalar;
  /** Clip the global gradient norm to this (0 = off). */
  gradClip: number;
}

/**
 * One optimisation step, as trainLoop takes it: the mean gradient over the
 * batches (gradient accumulation), a NaN/Inf guard before anything changes,
 * global-norm clipping, then AdamW at `lr`. Returns the mean loss and the
 * gradient norm before clipping (NaN without clipping). Benchmarks time this
 * same function.
 */
export function trainStep<B>(options: TrainStepOptions<B>): (batches: B[], lr: number, step?: number) => Promise<{ loss: number; gradNorm: number }> {
  const { gradients, apply } = stepper(options);
  return async (batches, lr, step = options.optimizer.step) => {
    const { loss, grads } = gradients(batches);
    const [meanLoss] = await readAll([loss]);
    loss.dispose();
    if (!Number.isFinite(meanLoss)) {
      tf.dispose(Object.values(grads));
      throw new TrainingError(`loss is ${meanLoss} at step ${step} (lr ${lr.toExponential(3)}): training stopped before applying the update; the last saved checkpoint is untouched`);
    }
    const norm = apply(grads, lr);
    const gradNorm = norm ? (await readAll([norm]))[0] : NaN;
    norm?.dispose();
    return { loss: meanLoss, gradNorm };
  };
}

/**
 * trainStep with nothing read back: the mean loss and the gradient norm before clipping
 * (null without clipping) stay scalar tensors that the caller reads when it wants to and
 * disposes. No check for a non-finite loss happens before the update (trainLoop's header
 * says what happens instead): what trainLoop runs with logInterval > 1.
 */
export function deferredTrainStep<B>(options: TrainStepOptions<B>): (batches: B[], lr: number) => { loss: tf.Scalar; gradNorm: tf.Scalar | null } {
  const { gradients, apply } = stepper(options);
  return (batches, lr) => {
    const { loss, grads } = gradients(batches);
    return { loss, gradNorm: apply(grads, lr) };
  };
}

/** The step in two halves: the mean loss and gradients over the batches; then clipping and AdamW (which disposes the gradients). */
function stepper<B>({ model, optimizer, loss, gradClip }: TrainStepOptions<B>) {
  // tfjs names variables itself; map its names back to ours for the optimizer.
  const named = model.namedParameters().filter(([, v]) => v.trainable);
  const ourName = new Map(named.map(([name, v]) => [v.name, name]));
  const variables = named.map(([, v]) => v);
  const gradients = (batches: B[]): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } => {
    let lossSum: tf.Scalar | null = null;
    const grads: Record<string, tf.Tensor> = {};
    for (const batch of batches) {
      const { value, grads: g } = tf.variableGrads(() => loss(batch), variables);
      if (lossSum) {
        const sum = tf.add(lossSum, value) as tf.Scalar;
        tf.dispose([lossSum, value]);
        lossSum = sum;
      } else lossSum = value;
      for (const [varName, grad] of Object.entries(g)) {
        const name = ourName.get(varName)!;
        // The mean over micro-batches; with one micro-batch the gradient is used as it is.
        const scaled = batches.length === 1 ? grad : tf.div(grad, batches.length);
        if (scaled !== grad) grad.dispose();
        if (grads[name]) {
          const sum = tf.add(grads[name], scaled);
          tf.dispose([grads[name], scaled]);
          grads[name] = sum;
        } else grads[name] = scaled;
      }
    }
    if (batches.length === 1) return { loss: lossSum!, grads };
    const mean = tf.div(lossSum!, batches.length) as tf.Scalar;
    lossSum!.dispose();
    return { loss: mean, grads };
  };
  const apply = (grads: Record<string, tf.Tensor>, lr: number): tf.Scalar | null => {
    const norm = optimizer.apply(grads, lr, { maxNorm: gradClip });
    tf.dispose(Object.values(grads));
    return norm;
  };
  return { gradients, apply };
}

/** Mean loss over evalIters batches of each split, with dropout off (nanoGPT's estimate_loss). */
export async function estimateLoss<B>(opts: Pick<TrainLoopOptions<B>, 'model' | 'loss' | 'sample' | 'rng' | 'evalIters'>): Promise<{ trainLoss: number; valLoss: number }> {
  const iters = opts.evalIters ?? 20;
  const wasTraining = opts.model.training;
  opts.model.eval();
  // Each split's losses stay on the device until one read fetches them all.
  const mean = async (split: 'train' | 'val') => {
    const losses = Array.from({ length: iters }, () => {
      const batch = opts.sample(split, opts.rng);
      return tf.tidy(() => opts.loss(batch));
    });
    const values = await readAll(losses);
    tf.dispose(losses);
    return values.reduce((a, b) => a + b, 0) / iters;
  };
  const trainLoss = await mean('train');
  const valLoss = await mean('val');
  opts.model.train(wasTraining);
  return { trainLoss, valLoss };
}

/** Let timers, signals and the UI run between steps. */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => void };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}
