// LayerNorm, with or without bias (as nanoGPT).
//
// LayerNorm's gradient is written by hand: one pass of elementwise ops instead
// of the long chain autodiff derives through mean and variance.
//   xhat = (x - mean) * rstd,   y = xhat * w + b
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * w
import { Module, ShapeError, formatShape, fusedLayerNorm, tf } from '@tx/core';

/** How a LayerNorm is built: bias and eps. */
export interface LayerNormOptions {
  /** A learned bias (default true; nanoGPT's bias=False has none). */
  bias?: boolean;
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
}

/** Layer normalisation over the last axis with a learned gain and optional bias (PyTorch's nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly eps: number;

  constructor(readonly dim: number, { bias = true, eps = 1e-5 }: LayerNormOptions = {}) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = bias ? this.param('bias', tf.zeros([dim])) : null;
    this.eps = eps;
  }

  // x: [..., dim] -> [..., dim]
  forward(x: tf.Tensor): tf.Tensor {
    checkLastAxis(x, this.dim, 'LayerNorm');
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.dim]);
      // On wasm, one fused kernel each way (bias included); elsewhere the tfjs ops of layerNorm.
      const fused = fusedLayerNorm(flat, this.weight, this.bias, this.eps);
      if (fused) return tf.reshape(fused, x.shape);
      const y = layerNorm(flat, this.weight, this.eps);
      return tf.reshape(this.bias ? tf.add(y, this.bias) : y, x.shape);
    });
  }
}

/** x: [N, C], weight: [C] -> (x - mean) / sqrt(var + eps) * weight, over the last axis. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad(((xIn: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(xIn, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(xIn, mean), rstd);
    save([xhat, rstd, w]);
    return {
      value: tf.mul(xhat, w),
      gradFunc: (dy: tf.Tensor, [sXhat, sRstd, sW]: tf.Tensor[]) => {
        const g = tf.mul(dy, sW);
        const meanG = tf.mean(g, -1, true);
        const meanGX = tf.mean(tf.mul(g, sXhat), -1, true);
        const dx = tf.mul(sRstd, tf.sub(tf.sub(g, meanG), tf.mul(sXhat, meanGX)));
        const dw = tf.sum(tf.mul(dy, sXhat), 0);
        return [dx, dw];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(x, weight);
}

export function checkLastAxis(x: tf.Tensor, dim: number, what: string): void {
  const last = x.shape[x.rank - 1];
  if (last !== dim) throw new ShapeError(`${what}(${dim}): input's last axis is ${last}, shape ${formatShape(x.shape)}`);
}
