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

  /** dModel: the width C it normalises over (the last axis). */
  constructor(readonly dModel: number, { eps = 1e-5 }: RMSNormOptions = {}) {
    super();
    this.weight = this.param('weight', tf.ones([dModel]));
    this.eps = eps;
  }

  /** @deprecated Use `dModel` (the same width; this name goes in the next minor release). */
  get dim(): number {
    return this.dModel;
  }

  // x: [..., C] -> [..., C]
  forward(x: tf.Tensor): tf.Tensor {
    checkLastAxis(x, this.dModel, 'RMSNorm');
    return rmsNorm(x, this.weight, this.eps); // @tx/core's op: its wasm kernel and gradient, or tfjs's ops
  }
}
