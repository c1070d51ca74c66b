// Learning-rate schedules: functions from the iteration number (0-based) to a learning rate.
import { ValueError } from '@tx/core';

/** A learning-rate schedule: the iteration (0-based) to a learning rate. */
export type Schedule = (iter: number) => number;

/** nanoGPT's get_lr: linear warm-up, cosine decay to minLr at decayIters, then minLr. */
export function cosineWithWarmup({ lr, minLr, warmupIters, decayIters }: { lr: number; minLr: number; warmupIters: number; decayIters: number }): Schedule {
  if (decayIters <= warmupIters) throw new ValueError(`cosineWithWarmup: decayIters (${decayIters}) must exceed warmupIters (${warmupIters})`);
  return (iter) => {
    if (iter < warmupIters) return (lr * (iter + 1)) / (warmupIters + 1);
    if (iter > decayIters) return minLr;
    const ratio = (iter - warmupIters) / (decayIters - warmupIters);
    return minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (lr - minLr);
  };
}

/** The original Transformer's schedule ("Noam"): factor * d^-0.5 * min(s^-0.5, s * warmup^-1.5), s = iter + 1. */
export function inverseSqrt({ dModel, warmupIters, factor = 1 }: { dModel: number; warmupIters: number; factor?: number }): Schedule {
  return (iter) => {
    const s = iter + 1;
    return factor * dModel ** -0.5 * Math.min(s ** -0.5, s * warmupIters ** -1.5);
  };
}

/** A schedule that always gives `lr`. */
export function constant(lr: number): Schedule {
  return () => lr;
}
