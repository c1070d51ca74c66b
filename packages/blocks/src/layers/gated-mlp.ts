// The SiLU-gated MLP of the Llama family (Shazeer 2020, "GLU Variants Improve
// Transformer"; Hugging Face's LlamaMLP):
//
//   MLP(x) = down_proj( silu(gate_proj(x)) * up_proj(x) ),   silu(z) = z * sigmoid(z)
//
// Three Linears with Hugging Face's names; the inner width (intermediate_size)
// is any positive integer.
import { Linear, Module, siluGate, tf, type Rng } from '@tx/core';

/** How a GatedMLP is built: the inner width, biases, and the initial weights. */
export interface GatedMLPOptions {
  /** The inner width (HF: intermediate_size). */
  hidden: number;
  /** Biases on the three projections (HF: mlp_bias; default false, as Llama). */
  bias?: boolean;
  rng: Rng;
  /** Init std of gate_proj and up_proj (default 0.02). */
  std?: number;
  /** Init std of down_proj, the residual projection (default std). */
  outStd?: number;
}

/** silu(z) = z · sigmoid(z) (PyTorch's F.silu, Llama's hidden_act "silu"). */
export function silu(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(z, tf.sigmoid(z)));
}

/** Llama's feed-forward: down_proj(silu(gate_proj(x)) * up_proj(x)). */
export class GatedMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(readonly dModel: number, { hidden, bias = false, rng, std = 0.02, outStd = std }: GatedMLPOptions) {
    super();
    this.gate_proj = this.module('gate_proj', new Linear(dModel, hidden, { bias, rng, std }));
    this.up_proj = this.module('up_proj', new Linear(dModel, hidden, { bias, rng, std }));
    this.down_proj = this.module('down_proj', new Linear(hidden, dModel, { bias, rng, std: outStd }));
  }

  // x: [B, T, C] -> [B, T, C]
  forward(x: tf.Tensor): tf.Tensor {
    // siluGate: one wasm kernel each way (tfjs's sigmoid, two multiplies and their casting gradients otherwise).
    return tf.tidy(() => this.down_proj.forward(siluGate(this.gate_proj.forward(x), this.up_proj.forward(x))));
  }
}
