// Linear: y = x W + b, the building block of every projection in a Transformer.
// The product is core's matMul (src/ops/mat-mul.ts), whose gradient stays on
// the fast path of whichever backend runs it.
import { randomNormal } from './init.js';
import { Module } from './module.js';
import { matMul } from './ops/mat-mul.js';
import type { Rng } from './rng.js';
import { ShapeError, formatShape } from './errors.js';
import { tf } from './tf.js';

/** a: [M, K], b: [K, N] -> [M, N]: matMul (src/ops/mat-mul.ts) under its earlier name. */
export const matMul2d = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => matMul(a, b);

/** How a Linear is built: bias, and the seeded Rng and std of its initial weights. */
export interface LinearOptions {
  /** Add a bias vector (default true, as torch.nn.Linear). */
  bias?: boolean;
  /** Seeded RNG for the initial weights. */
  rng: Rng;
  /** Std of the normal initialisation (default 0.02, as GPT-2 and nanoGPT). */
  std?: number;
}

/**
 * y = x W + b over the last axis. W is held as [in, out] for the fast matMul and
 * stored in state dicts as [out, in], PyTorch's layout, so nn.Linear weights load as they are.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, rng, std = 0.02 }: LinearOptions,
  ) {
    super();
    this.weight = this.param('weight', randomNormal([inFeatures, outFeatures], rng, { std }), { transposeInStateDict: true });
    this.bias = bias ? this.param('bias', tf.zeros([outFeatures])) : null;
  }

  // x: [..., in] -> [..., out]
  forward(x: tf.Tensor): tf.Tensor {
    const inDim = x.shape[x.rank - 1];
    if (inDim !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures} -> ${this.outFeatures}): input's last axis is ${inDim}, shape ${formatShape(x.shape)}`);
    }
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      const y = matMul(flat, this.weight as tf.Tensor2D, { bias: this.bias });
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
