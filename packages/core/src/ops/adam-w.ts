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
// On webgpu, the norm is a chain of dispatches of up to 7 gradients each (a
// running sum; the 8 storage buffers a shader may bind), then one dispatch per
// parameter reads it on the GPU: nothing is read back. There a non-finite norm
// (a NaN or infinite loss's gradients) leaves every parameter and moment as it
// was: the step is skipped, where torch would write NaNs.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { addAll } from '../add-all.js';
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { BUILTINS, grid, IS_FINITE, item, MAX_STORAGE_BUFFERS } from '../webgpu/program.js';
import { bufferOf, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

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
  const tensors = slots.flatMap((s) => [s.param, s.grad]);
  if (onWasm(...tensors)) return fused(slots, step, maxNorm);
  if (slots.length > 0 && onWebGPU(...tensors)) return onGPU(slots, step, maxNorm);
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

// The WebGPU binding. Sum of squares: inputs [acc] g0.. -> acc [1], the running sum (its square root when attrs.last).
const sumOfSquaresKernel = webgpuKernel('TxSumOfSquares', ({ inputs, attrs, backend }) => {
  const grads = Object.keys(inputs).filter((k) => k !== 'acc').sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const prev = inputs.acc ? 'acc' : null;
  const loops = grads.map((g) => `for (var j = i; j < u.n${g}; j += 256u) { let x = ${g}[j]; s += x * x; }`).join('\n  ');
  const total = prev ? 'part[0] + prevAcc[0]' : 'part[0]';
  const [out] = runProgram(backend, {
    key: `sumOfSquares:${grads.length}:${prev !== null}:${attrs.last}`,
    inputs: [...(prev ? [{ name: 'prevAcc', tensor: inputs.acc }] : []), ...grads.map((g) => ({ name: g, tensor: inputs[g] }))],
    outputs: [{ name: 'acc', shape: [1] }],
    params: grads.map((g) => ({ name: `n${g}`, type: 'u32' as const, value: tf.util.sizeFromShape(inputs[g].shape) })),
    workgroups: [1],
    body: `var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(local_invocation_index) i: u32) {
  var s = 0.0;
  ${loops}
  part[i] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (i < w) { part[i] += part[i + w]; }
    workgroupBarrier();
  }
  if (i == 0u) { acc[0] = ${attrs.last ? `sqrt(${total})` : total}; }
}`,
  });
  return out;
});

// One parameter's update: p, m, v, g, norm [1] -> p', m', v'; a non-finite norm copies p, m, v unchanged.
const adamWKernel = webgpuKernel('TxAdamWUpdate', ({ inputs: { p, m, v, g, norm }, attrs, backend }) => {
  const n = tf.util.sizeFromShape(p.shape);
  const a = attrs as unknown as AdamWStep & { decay: number; maxNorm: number };
  const f32 = (name: string, value: number) => ({ name, type: 'f32' as const, value });
  return runProgram(backend, {
    key: 'adamW',
    inputs: [{ name: 'p', tensor: p }, { name: 'm', tensor: m }, { name: 'v', tensor: v }, { name: 'g', tensor: g }, { name: 'norm', tensor: norm }],
    outputs: ['pOut', 'mOut', 'vOut'].map((name) => ({ name, shape: p.shape })),
    params: [{ name: 'n', type: 'u32', value: n }, f32('maxNorm', a.maxNorm), f32('beta1', a.beta1), f32('oneMinusBeta1', 1 - a.beta1), f32('beta2', a.beta2),
      f32('oneMinusBeta2', 1 - a.beta2), f32('correction2', a.correction2), f32('eps', a.eps), f32('decay', a.decay), f32('stepSize', a.stepSize)],
    workgroups: grid(n, 64),
    body: `${IS_FINITE}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i >= u.n) { return; }
  let total = norm[0];
  if (!isFinite(total)) { pOut[i] = p[i]; mOut[i] = m[i]; vOut[i] = v[i]; return; }
  var scale = 1.0;
  if (u.maxNorm > 0.0) { scale = min(u.maxNorm / (total + 1e-6), 1.0); }
  let gi = g[i] * scale;
  let mi = m[i] * u.beta1 + gi * u.oneMinusBeta1;
  let vi = v[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  let denom = sqrt(vi / u.correction2) + u.eps;
  pOut[i] = p[i] * u.decay - (mi / denom) * u.stepSize;
  mOut[i] = mi;
  vOut[i] = vi;
}`,
  });
});

function onGPU(slots: readonly AdamWSlot[], step: AdamWStep, maxNorm: number): AdamWResult {
  // The norm: gradients in groups, each dispatch adding its group's squares to the running sum.
  let acc: tf.Tensor | null = null;
  for (let start = 0; start < slots.length; ) {
    const room = MAX_STORAGE_BUFFERS - 1 - (acc ? 1 : 0);
    const group = slots.slice(start, start + room);
    start += group.length;
    const inputs: Record<string, tf.Tensor> = acc ? { acc } : {};
    group.forEach((s, i) => (inputs[`g${i}`] = s.grad));
    const next: tf.Tensor = sumOfSquaresKernel(inputs, { last: start >= slots.length })[0];
    acc?.dispose();
    acc = next;
  }
  const norm = acc!;
  const out: AdamWResult = { params: [], m: [], v: [], norm: null };
  for (const s of slots) {
    const [p, m, v] = adamWKernel({ p: s.param, m: s.m, v: s.v, g: s.grad, norm }, Object.assign({}, step, { decay: s.decay, maxNorm }));
    out.params.push(p);
    out.m.push(m);
    out.v.push(v);
  }
  if (maxNorm > 0) out.norm = tf.reshape(norm, []) as tf.Scalar;
  norm.dispose();
  return out;
}
