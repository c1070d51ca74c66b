// Linear: y = x W + b, the building block of every projection in a Transformer.
//
// Why a custom gradient: with tfjs-wasm's own kernels only a plain 2-D matMul
// without transpose flags takes the fast (XNNPACK) path; a transpose flag runs
// ~15x slower (docs/performance.md §2), and tfjs's matMul gradient uses them. `matMul2d`'s
// gradient uses flags when @tx's wasm kernels are on (they run them at full
// speed) and otherwise an explicit transpose then a flag-free 2-D matMul.
import { randomNormal } from './init.js';
import { kernelsActive } from './kernels/install.js';
import { Module } from './module.js';
import type { Rng } from './rng.js';
import { ShapeError, formatShape } from './errors.js';
import { tf } from './tf.js';

/** a: [M, K], b: [K, N] -> [M, N], with gradients that stay on the fast 2-D path. */
export const matMul2d: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  ((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as tf.Tensor2D[];
        const g = dy as tf.Tensor2D;
        // @tx's wasm kernels run transpose flags at full speed; tfjs's need explicit transposes.
        if (kernelsActive()) return [tf.matMul(g, sb, false, true), tf.matMul(sa, g, true, false)];
        return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0],
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

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
      let y: tf.Tensor = matMul2d(flat, this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
