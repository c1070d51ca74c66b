// RMSNorm (Zhang & Sennrich 2019) over the last axis: LayerNorm without
// centring or bias, as Llama uses.
//
//   x̂ = x · rstd, rstd = 1 / √(mean(x²) + eps);   y = x̂ · w
//   dx = rstd · (g - x̂ · mean(g · x̂)), g = dy · w;   dw = Σ dy · x̂
//
// On wasm with @tx's kernels, one pass each way (kernels/rmsnorm.ts);
// elsewhere the tfjs ops below, differentiated by tfjs.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, onWasm, run, wasmKernel } from './define.js';

/** RMSNorm of x [..., C] over its last axis: x / √(mean(x²) + eps) · weight, weight [C]. One fused kernel each way on wasm; tfjs ops elsewhere. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    if (!onWasm(x, weight)) return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
    return tf.reshape(fused({ eps }, tf.reshape(x, [-1, x.shape[x.rank - 1]]), weight), x.shape);
  });
}

// The wasm binding. x: [N, C], weight: [C] -> y [N, C] and rstd [N]; back: dx [N, C], dweight [C].
const forwardKernel = wasmKernel('TxRMSNorm', ({ inputs: { x, weight }, attrs, backend }) => {
  const [N, C] = x.shape;
  const [y, rstd] = [backend.makeOutput([N, C], 'float32'), backend.makeOutput([N], 'float32')];
  const b = (t: TensorInfo) => bufferOf(backend, t);
  run(jobs.rmsNorm({ x: b(x), w: b(weight), y: b(y), rstd: b(rstd), N, C, eps: attrs.eps as number }));
  return [y, rstd];
});

const backwardKernel = wasmKernel('TxRMSNormGrad', ({ inputs: { x, weight, rstd, dy }, backend }) => {
  const [N, C] = x.shape;
  const [dx, dw] = [backend.makeOutput([N, C], 'float32'), backend.makeOutput([C], 'float32')];
  const b = (t: TensorInfo) => bufferOf(backend, t);
  run(jobs.rmsNormGrad({ x: b(x), w: b(weight), rstd: b(rstd), dy: b(dy), dx: b(dx), dw: b(dw), N, C }));
  return [dx, dw];
});

const fused = differentiable((settings: { eps: number }) => ({
  forward: (x, weight) => {
    const [y, rstd] = forwardKernel({ x, weight }, settings);
    return { value: y, saved: [x, weight, rstd] };
  },
  backward: (dy, [x, weight, rstd]) => backwardKernel({ x, weight, rstd, dy }),
}));
