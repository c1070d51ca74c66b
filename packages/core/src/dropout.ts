// Dropout with masks drawn from a seeded Rng in JavaScript, so a run repeats
// exactly on every backend (tfjs's own random ops differ between backends).
// Inverted dropout, as PyTorch: kept values are scaled by 1 / (1 - p).
import { Module, Rng, TxError, tf } from '@tx/core';

export class Dropout extends Module {
  constructor(
    readonly p: number,
    /** Draws the masks; share one per model and save its state to resume a run. */
    readonly rng: Rng,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new TxError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  // x: any shape -> same shape. The identity in eval mode or when p = 0.
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    const scale = 1 / (1 - this.p);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.random() >= this.p ? scale : 0;
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }
}

/** A new Rng seeded from `rng`'s next draw: an independent stream for dropout masks. */
export function forkRng(rng: Rng): Rng {
  return new Rng(rng.nextUint32());
}
