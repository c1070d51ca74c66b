// RMSNorm (Zhang & Sennrich 2019): LayerNorm without centring or bias, as LLaMA uses.
import { Module, rmsNorm, tf } from '@tx/core';
import { checkLastAxis } from './norm.js';

/** How an RMSNorm is built: eps. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-5). */
  eps?: number;
}

/** y = x / sqrt(mean(x²) + eps) * weight (Zhang & Sennrich 2019). */
export class RMSNorm extends Module {
  readonly weight: tf.Variable;
  readonly eps: number;

  constructor(readonly dim: number, { eps = 1e-5 }: RMSNormOptions = {}) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.eps = eps;
  }

  // x: [..., dim] -> [..., dim]
  forward(x: tf.Tensor): tf.Tensor {
    checkLastAxis(x, this.dim, 'RMSNorm');
    return rmsNorm(x, this.weight, this.eps); // @tx/core's op: its wasm kernel and gradient, or tfjs's ops
  }
}
