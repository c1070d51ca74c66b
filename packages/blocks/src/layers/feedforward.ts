// The position-wise feed-forward network: Linear(C -> 4C), activation,
// Linear(4C -> C), dropout. nanoGPT's MLP, with its names c_fc and c_proj.
import { Dropout, Linear, Module, gelu, tf } from '@tx/core';
import type { Rng } from '@tx/core';
import type { Activation } from '../models/config.js';

/** How a FeedForward is built: inner width, bias, activation, dropout. */
export interface FeedForwardOptions {
  /** Inner width d_ff (default 4 x dModel). */
  dFF?: number;
  /** Biases in both Linears (default true). */
  bias?: boolean;
  /** Default 'gelu' (exact, nanoGPT's nn.GELU()). */
  activation?: Activation;
  /** Dropout probability after c_proj (default 0). */
  dropout?: number;
  /** Initial weights, then dropout masks. */
  rng: Rng;
  /** Init std of c_proj (nanoGPT: 0.02 / sqrt(2 * nLayer)); default 0.02. */
  projStd?: number;
}

/** The position-wise feed-forward network: c_fc, the activation, c_proj, dropout. */
export class FeedForward extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  readonly dropout: Dropout;
  readonly activation: Activation;

  /** dModel: the width C of its input and output. */
  constructor(readonly dModel: number, options: FeedForwardOptions) {
    super();
    const { dFF = 4 * dModel, bias = true, activation = 'gelu', dropout = 0, rng, projStd = 0.02 } = options;
    this.activation = activation;
    this.c_fc = this.module('c_fc', new Linear(dModel, dFF, { bias, rng }));
    this.c_proj = this.module('c_proj', new Linear(dFF, dModel, { bias, rng, std: projStd }));
    this.dropout = this.module('dropout', new Dropout(dropout, rng));
  }

  /** @deprecated Use `dModel` (the same width; this name goes in the next minor release). */
  get dim(): number {
    return this.dModel;
  }

  // x: [..., C] -> [..., C]
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.dropout.forward(this.c_proj.forward(activate(this.c_fc.forward(x), this.activation))));
  }
}

/** The activation by name: GELU is @tx/core's op (its math, gradient and wasm kernel in one place). */
function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'gelu':
      return gelu(x);
    case 'gelu_tanh':
      return gelu(x, { approximate: true });
    case 'relu':
      return tf.relu(x);
  }
}

export { gelu };

/** GELU's tanh approximation (GPT-2's): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), @tx/core's gelu with `approximate`. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return gelu(x, { approximate: true });
}
