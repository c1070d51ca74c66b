// AdamW's update (Loshchilov & Hutter) for every parameter, gradient
// clipping included, as torch.optim.AdamW after clip_grad_norm_ (the
// optimizer itself, its state and schedule, is @tx/train's AdamW):
//
//   norm = √(Σ_params Σ g²);  g <- g · min(1, maxNorm / (norm + 1e-6))   (when maxNorm > 0)
//   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g²
//   p' = p · decay - (m' / (√(v' / c2) + eps)) · (lr / c1)
//
// On wasm with @tx's kernels, one pass per parameter (kernels/adamw.ts) after
// one for the norm, doing exactly the operations of the tfjs reference below,
// in the same order and float32 precision, so that both agree exactly.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { addAll } from '../add-all.js';
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { bufferOf, onWasm, run, wasmKernel } from './define.js';

/** AdamW's numbers for one step, the same for every parameter. */
export interface AdamWStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta2^t. */
  correction2: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
}

/** One parameter of an AdamW update: its tensors, and the factor weight decay multiplies it by (1 - lr · wd; 1 when it does not decay). */
export interface AdamWSlot {
  param: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  grad: tf.Tensor;
  decay: number;
}

/** What adamW returns: the new params, m's and v's in slot order, and the gradients' global norm when clipping (else null). */
export interface AdamWResult {
  params: tf.Tensor[];
  m: tf.Tensor[];
  v: tf.Tensor[];
  norm: tf.Scalar | null;
}

/**
 * Every parameter's AdamW update; with `maxNorm` > 0 the gradients are first
 * clipped to that global L2 norm (torch's clip_grad_norm_). The caller owns
 * (assigns and disposes) what it returns. One fused call per parameter on wasm.
 */
export function adamW(slots: readonly AdamWSlot[], step: AdamWStep, maxNorm = 0): AdamWResult {
  if (onWasm(...slots.flatMap((s) => [s.param, s.grad]))) return fused(slots, step, maxNorm);
  return tf.tidy(() => {
    const clip = maxNorm > 0 ? clipFactor(slots.map((s) => s.grad), maxNorm) : null;
    const out: AdamWResult = { params: [], m: [], v: [], norm: clip?.norm ?? null };
    for (const s of slots) {
      const g = clip ? tf.mul(s.grad, clip.scale) : s.grad;
      const m = tf.add(tf.mul(s.m, step.beta1), tf.mul(g, 1 - step.beta1));
      const v = tf.add(tf.mul(s.v, step.beta2), tf.mul(tf.square(g), 1 - step.beta2));
      const decayed = s.decay !== 1 ? tf.mul(s.param, s.decay) : s.param;
      const denom = tf.add(tf.sqrt(tf.div(v, step.correction2)), step.eps);
      out.params.push(tf.sub(decayed, tf.mul(tf.div(m, denom), step.stepSize)));
      out.m.push(m);
      out.v.push(v);
    }
    return out as unknown as tf.TensorContainer;
  }) as unknown as AdamWResult;
}

/**
 * The global L2 norm of the gradients and clipping's factor min(1, maxNorm / (norm + 1e-6)),
 * both scalar tensors the caller owns; nothing is read back to JavaScript.
 */
export function clipFactor(grads: readonly tf.Tensor[], maxNorm: number): { norm: tf.Scalar; scale: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(addAll(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    return { norm, scale: tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1) as tf.Scalar };
  });
}

// The wasm binding: inputs p0.., m0.., v0.., g0.. (attrs.count of each) -> the new params, then m's,
// then v's, then the gradients' global norm (a scalar); attrs.decays[i] is p_i's factor.
const kernel = wasmKernel('TxAdamW', ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as AdamWStep & { count: number; decays: number[]; maxNorm: number };
  const slot = (i: number) => ({ p: inputs[`p${i}`], m: inputs[`m${i}`], v: inputs[`v${i}`], g: inputs[`g${i}`] });
  const slots = Array.from({ length: a.count }, (_, i) => slot(i));
  const outs = (['p', 'm', 'v'] as const).map((k) => slots.map((s) => backend.makeOutput(s[k].shape, 'float32')));
  const norm = backend.makeOutput([], 'float32');
  const b = (t: TensorInfo) => bufferOf(backend, t);
  let total = 0; // float64 across parameters; float32 within one, as tf.sum
  for (const s of slots) {
    run(jobs.sumOfSquares({ x: b(s.g), n: tf.util.sizeFromShape(s.g.shape), out: b(norm) }));
    total += new Float32Array(backend.wasm.HEAPU8.buffer, b(norm).offset, 1)[0];
  }
  const value = Math.fround(Math.sqrt(total));
  new Float32Array(backend.wasm.HEAPU8.buffer, b(norm).offset, 1)[0] = value;
  const scale = a.maxNorm > 0 ? Math.min(1, Math.fround(a.maxNorm / Math.fround(value + 1e-6))) : 1;
  const { beta1, beta2, eps, correction2, stepSize } = a;
  slots.forEach((s, i) => {
    const [pOut, mOut, vOut] = outs.map((o) => b(o[i]));
    const n = tf.util.sizeFromShape(s.p.shape);
    run(jobs.adamW({ p: b(s.p), m: b(s.m), v: b(s.v), g: b(s.g), pOut, mOut, vOut, n, scale, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, correction2, eps, decay: a.decays[i], stepSize }));
  });
  return [...outs.flat(), norm];
});

function fused(slots: readonly AdamWSlot[], step: AdamWStep, maxNorm: number): AdamWResult {
  const inputs: Record<string, tf.Tensor> = {};
  slots.forEach((s, i) => Object.assign(inputs, { [`p${i}`]: s.param, [`m${i}`]: s.m, [`v${i}`]: s.v, [`g${i}`]: s.grad }));
  const out = kernel(inputs, { ...step, count: slots.length, decays: slots.map((s) => s.decay), maxNorm });
  const n = slots.length;
  const norm = out[3 * n] as tf.Scalar;
  if (maxNorm === 0) norm.dispose();
  return { params: out.slice(0, n), m: out.slice(n, 2 * n), v: out.slice(2 * n, 3 * n), norm: maxNorm > 0 ? norm : null };
}
