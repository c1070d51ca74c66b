// GELU (Hendrycks & Gimpel), exact as nanoGPT's nn.GELU(), or GPT-2's tanh
// approximation:
//
//   exact: y = x Φ(x) = 0.5 x (1 + erf(x / √2)),   y' = Φ(x) + x φ(x)
//   tanh:  y = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
//
// On wasm with @tx's kernels, one pass each way (kernels/gelu.ts), split
// between a pool's threads when long; on webgpu one dispatch each way (erf as
// Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, as tfjs's own Erf); elsewhere
// the tfjs ops below.
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { BUILTINS, grid, item } from '../webgpu/program.js';
import { bufferOf, differentiable, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

/** Options of gelu. */
export interface GeluOptions {
  /** GPT-2's tanh approximation instead of the exact erf form (default false). */
  approximate?: boolean;
}

/**
 * GELU, element-wise: exact (x Φ(x)) or, with `approximate`, GPT-2's tanh form.
 * One fused kernel each way on wasm; tfjs ops elsewhere.
 */
export function gelu(x: tf.Tensor, { approximate = false }: GeluOptions = {}): tf.Tensor {
  if (onWasm(x)) return fused({ approximate }, x);
  if (onWebGPU(x)) return onGPU({ approximate }, x);
  return approximate ? tanhReference(x) : exactReference(null, x);
}

// The reference: tfjs ops. The exact form's gradient is written by hand (tfjs's erf has none).
const exactReference = differentiable(() => ({
  forward: (x) => ({ value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), saved: [x] }),
  backward: (dy, [x]) => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  },
}));

function tanhReference(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

// The wasm binding: a pool's threads share arrays at least this long (copying smaller ones costs more than it saves).
const POOLED = 1 << 16;

const forwardKernel = wasmKernel('TxGelu', ({ inputs: { x }, attrs, backend }) => {
  const y = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  run(jobs.gelu({ x: bufferOf(backend, x), y: bufferOf(backend, y), n, approximate: attrs.approximate as boolean }), n >= POOLED);
  return y;
});

const backwardKernel = wasmKernel('TxGeluGrad', ({ inputs: { x, dy }, attrs, backend }) => {
  const dx = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  run(jobs.geluGrad({ x: bufferOf(backend, x), dy: bufferOf(backend, dy), dx: bufferOf(backend, dx), n, approximate: attrs.approximate as boolean }), n >= POOLED);
  return dx;
});

const fused = differentiable((settings: { approximate: boolean }) => ({
  forward: (x) => ({ value: forwardKernel({ x }, settings)[0], saved: [x] }),
  backward: (dy, [x]) => backwardKernel({ x, dy }, settings)[0],
}));

// The WebGPU binding: y = gelu(x), and dx = dy · gelu'(x), element-wise.
/** WGSL: erf, and GELU exact and tanh with their derivatives (the WebGPU decoder's activations use them too). */
export const GELU_WGSL = `fn erf(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-e, e, v >= 0.0);
}
fn geluExact(x: f32) -> f32 { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752)); }
fn geluExactGrad(x: f32) -> f32 { return 0.5 * (1.0 + erf(x * 0.70710678118654752)) + x * exp(-0.5 * x * x) * 0.3989422804014327; }
fn geluTanh(x: f32) -> f32 { return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
fn geluTanhGrad(x: f32) -> f32 {
  let th = tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
}`;

function geluProgram(name: string, grad: boolean) {
  return webgpuKernel(name, ({ inputs: { x, dy }, attrs, backend }) => {
    const n = tf.util.sizeFromShape(x.shape);
    const f = `gelu${attrs.approximate ? 'Tanh' : 'Exact'}${grad ? 'Grad' : ''}`;
    return runProgram(backend, {
      key: f,
      inputs: [{ name: 'x', tensor: x }, ...(grad ? [{ name: 'dy', tensor: dy }] : [])],
      outputs: [{ name: 'y', shape: x.shape }],
      params: [{ name: 'n', type: 'u32', value: n }],
      workgroups: grid(n, 64),
      body: `${GELU_WGSL}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i < u.n) { y[i] = ${grad ? `dy[i] * ${f}(x[i])` : `${f}(x[i])`}; }
}`,
    });
  });
}
const gpuForward = geluProgram('TxGelu', false);
const gpuBackward = geluProgram('TxGeluGrad', true);

const onGPU = differentiable((settings: { approximate: boolean }) => ({
  forward: (x) => ({ value: gpuForward({ x }, settings)[0], saved: [x] }),
  backward: (dy, [x]) => gpuBackward({ x, dy }, settings)[0],
}));
