// RMSNorm (Zhang & Sennrich 2019) over the last axis: LayerNorm without
// centring or bias, as Llama uses.
//
//   x̂ = x · rstd, rstd = 1 / √(mean(x²) + eps);   y = x̂ · w
//   dx = rstd · (g - x̂ · mean(g · x̂)), g = dy · w;   dw = Σ dy · x̂
//
// On wasm with @tx's kernels, one pass each way (kernels/rmsnorm.ts); on
// webgpu one dispatch each way (as layer-norm.ts's); elsewhere the tfjs ops
// below, differentiated by tfjs.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { grid, ROW_SUM } from '../webgpu/program.js';
import { ROW_RSTD, perRow, rowsThenColumns } from '../webgpu/norm-rows.js';
import { bufferOf, differentiable, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

/** RMSNorm of x [..., C] over its last axis: x / √(mean(x²) + eps) · weight, weight [C]. One fused kernel each way on wasm; tfjs ops elsewhere. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const wasm = onWasm(x, weight);
    if (!wasm && !onWebGPU(x, weight)) return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
    return tf.reshape((wasm ? fused : onGPU)({ eps }, tf.reshape(x, [-1, x.shape[x.rank - 1]]), weight), x.shape);
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

// The WebGPU binding: a workgroup per row each way; backward's extra workgroups each sum dweight down 64 columns.
const gpuForward = webgpuKernel('TxRMSNorm', ({ inputs: { x, weight }, attrs, backend }) => {
  const [N, C] = x.shape;
  return runProgram(backend, {
    key: 'rmsNorm',
    inputs: [{ name: 'x', tensor: x }, { name: 'w', tensor: weight }],
    outputs: [{ name: 'y', shape: [N, C] }, { name: 'rstd', shape: [N] }],
    params: [{ name: 'N', type: 'u32', value: N }, { name: 'C', type: 'u32', value: C }, { name: 'eps', type: 'f32', value: attrs.eps as number }],
    workgroups: grid(N, 1),
    body: `${ROW_RSTD}
${perRow(`
  let r = rowRstd(base, 0.0, t);
  for (var c = t; c < u.C; c += 64u) { y[base + c] = x[base + c] * r * w[c]; }
  if (t == 0u) { rstd[row] = r; }`)}`,
  });
});

const gpuBackward = webgpuKernel('TxRMSNormGrad', ({ inputs: { x, weight, rstd, dy }, backend }) => {
  const [N, C] = x.shape;
  return runProgram(backend, {
    key: 'rmsNormGrad',
    inputs: [{ name: 'x', tensor: x }, { name: 'w', tensor: weight }, { name: 'rstd', tensor: rstd }, { name: 'dy', tensor: dy }],
    outputs: [{ name: 'dx', shape: [N, C] }, { name: 'dw', shape: [C] }],
    params: [{ name: 'N', type: 'u32', value: N }, { name: 'C', type: 'u32', value: C }],
    workgroups: grid(N + Math.ceil(C / 64), 1),
    body: `${ROW_SUM}
${rowsThenColumns(`
    let r = rstd[row];
    var sgx = 0.0;
    for (var c = t; c < u.C; c += 64u) { sgx += dy[base + c] * w[c] * x[base + c] * r; }
    let meanGX = rowSum(sgx, t) / f32(u.C);
    for (var c = t; c < u.C; c += 64u) { dx[base + c] = r * (dy[base + c] * w[c] - x[base + c] * r * meanGX); }`, `
  var sw = 0.0;
  for (var row = 0u; row < u.N; row++) { sw += dy[row * u.C + c] * x[row * u.C + c] * rstd[row]; }
  dw[c] = sw;`)}`,
  });
});

const onGPU = differentiable((settings: { eps: number }) => ({
  forward: (x, weight) => {
    const [y, rstd] = gpuForward({ x, weight }, settings);
    return { value: y, saved: [x, weight, rstd] };
  },
  backward: (dy, [x, weight, rstd]) => gpuBackward({ x, weight, rstd, dy }),
}));
