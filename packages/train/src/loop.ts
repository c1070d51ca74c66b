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
import { Rng, TxError, tf, type Module } from '@tx/core';
import type { AdamW } from './adamw.js';
import type { Schedule } from './schedule.js';

/** Training cannot go on (the loss is NaN or infinite); nothing of the failing step was applied. */
export class TrainingError extends TxError {}

/** What trainLoop yields: a step, an evaluation, or the end. */
export type TrainEvent =
  | { event: 'step'; step: number; loss: number; lr: number; gradNorm: number; ms: number; tokensPerSecond: number }
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
  const update = trainStep({ model, optimizer, loss: opts.loss, gradClip });

  let step = opts.startIter ?? 0;
  model.train();
  while (step < maxIters) {
    if (opts.signal?.aborted) {
      yield { event: 'done', step, aborted: true };
      return;
    }
    const t0 = performance.now();
    const lr = opts.schedule(step);
    const batches = Array.from({ length: accum }, () => opts.sample('train', rng));
    const tokens = batches.reduce((n, b) => n + (typeof opts.tokensPerBatch === 'function' ? opts.tokensPerBatch(b) : opts.tokensPerBatch), 0);
    const { loss, gradNorm } = await update(batches, lr, step);
    step += 1;
    const ms = performance.now() - t0;
    yield { event: 'step', step, loss, lr, gradNorm, ms, tokensPerSecond: (tokens * 1000) / ms };

    if (step % evalInterval === 0 || step === maxIters) {
      yield { event: 'eval', step, ...(await estimateLoss({ ...opts, rng: new Rng((opts.evalSeed ?? 0x5eed) + step) })) };
    }
    await yieldToEventLoop();
  }
  yield { event: 'done', step, aborted: false };
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
export function trainStep<B>({ model, optimizer, loss, gradClip }: TrainStepOptions<B>): (batches: B[], lr: number, step?: number) => Promise<{ loss: number; gradNorm: number }> {
  // tfjs names variables itself; map its names back to ours for the optimizer.
  const named = model.namedParameters().filter(([, v]) => v.trainable);
  const ourName = new Map(named.map(([name, v]) => [v.name, name]));
  const variables = named.map(([, v]) => v);
  return async (batches, lr, step = optimizer.step) => {
    let lossSum = 0;
    let grads: Record<string, tf.Tensor> = {};
    for (const batch of batches) {
      const { value, grads: g } = tf.variableGrads(() => loss(batch), variables);
      lossSum += (await value.data())[0];
      value.dispose();
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
    const meanLoss = lossSum / batches.length;
    if (!Number.isFinite(meanLoss)) {
      tf.dispose(Object.values(grads));
      throw new TrainingError(`loss is ${meanLoss} at step ${step} (lr ${lr.toExponential(3)}): training stopped before applying the update; the last saved checkpoint is untouched`);
    }
    const norm = optimizer.apply(grads, lr, { maxNorm: gradClip });
    tf.dispose(Object.values(grads));
    const gradNorm = norm ? (await norm.data())[0] : NaN;
    norm?.dispose();
    return { loss: meanLoss, gradNorm };
  };
}

/** Mean loss over evalIters batches of each split, with dropout off (nanoGPT's estimate_loss). */
export async function estimateLoss<B>(opts: Pick<TrainLoopOptions<B>, 'model' | 'loss' | 'sample' | 'rng' | 'evalIters'>): Promise<{ trainLoss: number; valLoss: number }> {
  const iters = opts.evalIters ?? 20;
  const wasTraining = opts.model.training;
  opts.model.eval();
  const mean = async (split: 'train' | 'val') => {
    let total = 0;
    for (let i = 0; i < iters; i++) {
      const batch = opts.sample(split, opts.rng);
      const value = tf.tidy(() => opts.loss(batch));
      total += (await value.data())[0];
      value.dispose();
    }
    return total / iters;
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
