// LayerNorm (Ba et al.) over the last axis, with or without bias (as nanoGPT):
//
//   x̂ = (x - mean) · rstd, rstd = 1 / √(var + eps);   y = x̂ · w + b
//   dx = rstd · (g - mean(g) - x̂ · mean(g · x̂)), g = dy · w;  dw = Σ dy · x̂;  db = Σ dy
//
// The gradient is written by hand: one pass of element-wise ops instead of
// the long chain autodiff derives through mean and variance. On wasm with
// @tx's kernels, one pass each way (kernels/layernorm.ts).
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, onWasm, run, wasmKernel } from './define.js';

/**
 * LayerNorm of x [..., C] over its last axis: (x - mean) / √(var + eps) · weight (+ bias),
 * weight and bias [C] (bias null: none). One fused kernel each way on wasm; tfjs ops elsewhere.
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
    const y = onWasm(flat, weight, ...(bias ? [bias] : []))
      ? fused({ eps, bias: bias !== null }, ...(bias ? [flat, weight, bias] : [flat, weight]))
      : reference(flat, weight, bias, eps);
    return tf.reshape(y, x.shape);
  });
}

// The reference: tfjs ops, the gain's product with its hand-written gradient, then the bias (autodiff).
function reference(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, eps: number): tf.Tensor {
  const y = normalized({ eps }, x, weight);
  return bias ? tf.add(y, bias) : y;
}

const normalized = differentiable(({ eps }: { eps: number }) => ({
  forward: (x, w) => {
    const { mean, variance } = tf.moments(x, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(x, mean), rstd);
    return { value: tf.mul(xhat, w), saved: [xhat, rstd, w] };
  },
  backward: (dy, [xhat, rstd, w]) => {
    const g = tf.mul(dy, w);
    const meanG = tf.mean(g, -1, true);
    const meanGX = tf.mean(tf.mul(g, xhat), -1, true);
    return [tf.mul(rstd, tf.sub(tf.sub(g, meanG), tf.mul(xhat, meanGX))), tf.sum(tf.mul(dy, xhat), 0)];
  },
}));

// The wasm binding. x: [N, C], weight and bias: [C] -> y [N, C], mean [N], rstd [N].
const forwardKernel = wasmKernel('TxLayerNorm', ({ inputs: { x, weight, bias }, attrs, backend }) => {
  const [N, C] = x.shape;
  const [y, mean, rstd] = [[N, C], [N], [N]].map((shape) => backend.makeOutput(shape, 'float32'));
  const b = (t: typeof x) => bufferOf(backend, t);
  run(jobs.layerNorm({ x: b(x), w: b(weight), b: bias ? b(bias) : null, y: b(y), mean: b(mean), rstd: b(rstd), N, C, eps: attrs.eps as number }));
  return [y, mean, rstd];
});

// -> dx [N, C], dweight [C] and, when attrs.bias, dbias [C].
const backwardKernel = wasmKernel('TxLayerNormGrad', ({ inputs: { x, weight, mean, rstd, dy }, attrs, backend }) => {
  const [N, C] = x.shape;
  const [dx, dw] = [backend.makeOutput([N, C], 'float32'), backend.makeOutput([C], 'float32')];
  const db = attrs.bias ? backend.makeOutput([C], 'float32') : null;
  const b = (t: typeof x) => bufferOf(backend, t);
  run(jobs.layerNormGrad({ x: b(x), w: b(weight), mean: b(mean), rstd: b(rstd), dy: b(dy), dx: b(dx), dw: b(dw), db: db ? b(db) : null, N, C }));
  return db ? [dx, dw, db] : [dx, dw];
});

const fused = differentiable((settings: { eps: number; bias: boolean }) => ({
  forward: (x, weight, bias) => {
    const [y, mean, rstd] = forwardKernel(bias ? { x, weight, bias } : { x, weight }, settings);
    return { value: y, saved: [x, weight, mean, rstd] };
  },
  backward: (dy, [x, weight, mean, rstd]) => backwardKernel({ x, weight, mean, rstd, dy }, settings),
}));
