// GELU (Hendrycks & Gimpel), exact as nanoGPT's nn.GELU(), or GPT-2's tanh
// approximation:
//
//   exact: y = x Φ(x) = 0.5 x (1 + erf(x / √2)),   y' = Φ(x) + x φ(x)
//   tanh:  y = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
//
// On wasm with @tx's kernels, one pass each way (kernels/gelu.ts), split
// between a pool's threads when long; elsewhere the tfjs ops below.
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, onWasm, run, wasmKernel } from './define.js';

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
