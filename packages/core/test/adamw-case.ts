// The kernels fixture's AdamW case as adamW takes it, for the wasm and WebGPU
// kernel tests and the browser page that runs the WebGPU cases
// (webgpu-parity.ts). It imports nothing at run time: the caller passes its tf.
import type * as Core from '../src/index.js';
import type { AdamWCase } from './kernels-fixture.js';

/** The AdamW case's two parameters at their start, with zero moments: W (decayed) and b (not). */
export function adamwSlots(tf: typeof Core.tf, f: AdamWCase): { param: Core.Tensor; m: Core.Tensor; v: Core.Tensor; decayed: boolean }[] {
  return [
    { param: tf.tensor2d(f.init.W, [3, 5]), m: tf.zeros([3, 5]), v: tf.zeros([3, 5]), decayed: true },
    { param: tf.tensor1d(f.init.b), m: tf.zeros([7]), v: tf.zeros([7]), decayed: false },
  ];
}

/** adamW's step settings at step t (from 1): torch.optim.AdamW's bias corrections folded in. */
export function adamwStep(f: AdamWCase, t: number): Core.AdamWStep {
  return { beta1: f.beta1, beta2: f.beta2, eps: f.eps, correction2: 1 - f.beta2 ** t, stepSize: f.lr / (1 - f.beta1 ** t) };
}
