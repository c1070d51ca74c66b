// LayerNorm (Ba et al.) over the last axis, with or without bias (as nanoGPT):
//
//   x̂ = (x - mean) · rstd, rstd = 1 / √(var + eps);   y = x̂ · w + b
//   dx = rstd · (g - mean(g) - x̂ · mean(g · x̂)), g = dy · w;  dw = Σ dy · x̂;  db = Σ dy
//
// The gradient is written by hand: one pass of element-wise ops instead of
// the long chain autodiff derives through mean and variance. On wasm with
// @tx's kernels, one pass each way (kernels/layernorm.ts). On webgpu, one
// dispatch each way: a workgroup per row, and backward's extra workgroups
// each sum dweight and dbias down a slice of columns.
import { jobs } from '../kernels/jobs.generated.js';
import { tf } from '../tf.js';
import { grid, ROW_SUM } from '../webgpu/program.js';
import { ROW_RSTD, perRow, rowsThenColumns } from '../webgpu/norm-rows.js';
import { bufferOf, differentiable, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

/**
 * LayerNorm of x [..., C] over its last axis: (x - mean) / √(var + eps) · weight (+ bias),
 * weight and bias [C] (bias null: none). One fused kernel each way on wasm; tfjs ops elsewhere.
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
    const tensors = bias ? [flat, weight, bias] : [flat, weight];
    const y = onWasm(...tensors)
      ? fused({ eps, bias: bias !== null }, ...tensors)
      : onWebGPU(...tensors)
        ? onGPU({ eps, bias: bias !== null }, ...tensors)
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

// The WebGPU binding.

// x [N, C], weight, bias [C] -> y [N, C], mean [N], rstd [N]: one workgroup per row.
const gpuForward = webgpuKernel('TxLayerNorm', ({ inputs: { x, weight, bias }, attrs, backend }) => {
  const [N, C] = x.shape;
  return runProgram(backend, {
    key: `layerNorm:${bias ? 'bias' : ''}`,
    inputs: [{ name: 'x', tensor: x }, { name: 'w', tensor: weight }, ...(bias ? [{ name: 'b', tensor: bias }] : [])],
    outputs: [{ name: 'y', shape: [N, C] }, { name: 'mean', shape: [N] }, { name: 'rstd', shape: [N] }],
    params: [{ name: 'N', type: 'u32', value: N }, { name: 'C', type: 'u32', value: C }, { name: 'eps', type: 'f32', value: attrs.eps as number }],
    workgroups: grid(N, 1),
    body: `${ROW_RSTD}
${perRow(`
  var s = 0.0;
  for (var c = t; c < u.C; c += 64u) { s += x[base + c]; }
  let mu = rowSum(s, t) / f32(u.C);
  let r = rowRstd(base, mu, t); // two passes (the mean, then the squared deviations), as tf.moments
  for (var c = t; c < u.C; c += 64u) { y[base + c] = (x[base + c] - mu) * r * w[c]${bias ? ' + b[c]' : ''}; }
  if (t == 0u) { mean[row] = mu; rstd[row] = r; }`)}`,
  });
});

// -> dx [N, C], dweight [C] (and dbias [C]): workgroups 0..N-1 take a row's dx, the next ones 64 columns each of dw (and db).
const gpuBackward = webgpuKernel('TxLayerNormGrad', ({ inputs: { x, weight, mean, rstd, dy }, attrs, backend }) => {
  const [N, C] = x.shape;
  const withBias = attrs.bias as boolean;
  return runProgram(backend, {
    key: `layerNormGrad:${withBias ? 'bias' : ''}`,
    inputs: [{ name: 'x', tensor: x }, { name: 'w', tensor: weight }, { name: 'mean', tensor: mean }, { name: 'rstd', tensor: rstd }, { name: 'dy', tensor: dy }],
    outputs: [{ name: 'dx', shape: [N, C] }, { name: 'dw', shape: [C] }, ...(withBias ? [{ name: 'db', shape: [C] }] : [])],
    params: [{ name: 'N', type: 'u32', value: N }, { name: 'C', type: 'u32', value: C }],
    workgroups: grid(N + Math.ceil(C / 64), 1),
    body: `${ROW_SUM}
${rowsThenColumns(`
    let mu = mean[row];
    let r = rstd[row];
    var sg = 0.0;
    var sgx = 0.0;
    for (var c = t; c < u.C; c += 64u) {
      let g = dy[base + c] * w[c];
      sg += g;
      sgx += g * (x[base + c] - mu) * r;
    }
    let meanG = rowSum(sg, t) / f32(u.C);
    let meanGX = rowSum(sgx, t) / f32(u.C);
    for (var c = t; c < u.C; c += 64u) {
      let xhat = (x[base + c] - mu) * r;
      dx[base + c] = r * (dy[base + c] * w[c] - meanG - xhat * meanGX);
    }`, `
  var sw = 0.0;
  var sb = 0.0;
  for (var row = 0u; row < u.N; row++) {
    let g = dy[row * u.C + c];
    sw += g * (x[row * u.C + c] - mean[row]) * rstd[row];
    sb += g;
  }
  dw[c] = sw;
  ${withBias ? 'db[c] = sb;' : 'let unused = sb;'}`)}`,
  });
});

const onGPU = differentiable((settings: { eps: number; bias: boolean }) => ({
  forward: (x, weight, bias) => {
    const [y, mean, rstd] = gpuForward(bias ? { x, weight, bias } : { x, weight }, settings);
    return { value: y, saved: [x, weight, mean, rstd] };
  },
  backward: (dy, [x, weight, mean, rstd]) => gpuBackward({ x, weight, mean, rstd, dy }, settings),
}));
