// LayerNorm, with or without bias (as nanoGPT): the module around @tx/core's
// layerNorm op, which holds the math, its gradient and its wasm kernel.
import { Module, ShapeError, formatShape, layerNorm as layerNormOp, tf } from '@tx/core';

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

  /** dModel: the width C it normalises over (the last axis). */
  constructor(readonly dModel: number, { bias = true, eps = 1e-5 }: LayerNormOptions = {}) {
    super();
    this.weight = this.param('weight', tf.ones([dModel]));
    this.bias = bias ? this.param('bias', tf.zeros([dModel])) : null;
    this.eps = eps;
  }

  /** @deprecated Use `dModel` (the same width; this name goes in the next minor release). */
  get dim(): number {
    return this.dModel;
  }

  // x: [..., C] -> [..., C]
  forward(x: tf.Tensor): tf.Tensor {
    checkLastAxis(x, this.dModel, 'LayerNorm');
    return layerNormOp(x, this.weight, this.bias, this.eps);
  }
}

/** x: [..., C], weight: [C] -> (x - mean) / sqrt(var + eps) * weight over the last axis, without bias (@tx/core's layerNorm). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return layerNormOp(x, weight, null, eps);
}

/** Throw a ShapeError unless x's last axis is `dModel`, naming the layer `what`. */
export function checkLastAxis(x: tf.Tensor, dModel: number, what: string): void {
  const last = x.shape[x.rank - 1];
  if (last !== dModel) throw new ShapeError(`${what}(${dModel}): input's last axis is ${last}, shape ${formatShape(x.shape)}`);
}
