// Dropout with masks drawn from a seeded Rng in JavaScript, so a run repeats
// exactly on every backend (tfjs's own random ops differ between backends).
// Inverted dropout, as PyTorch: kept values are scaled by 1 / (1 - p).
import { ValueError } from './errors.js';
import { Module } from './module.js';
import { Rng } from './rng.js';
import { tf } from './tf.js';

// x: any shape -> same shape, each value zeroed with probability p, the rest scaled by 1 / (1 - p).
/** Inverted dropout with a mask drawn from `rng` in JavaScript: each value is zeroed with probability p, the rest scaled by 1 / (1 - p). */
export function dropout(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (!(p >= 0 && p < 1)) throw new ValueError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const scale = 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.random() >= p ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
}

/** The layer: dropout in training mode, the identity in eval mode. No parameters. */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    /** Draws the masks; share one per model and save its state to resume a run. */
    readonly rng: Rng,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.training ? dropout(x, this.p, this.rng) : x;
  }
}
