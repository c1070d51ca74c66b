// Softmax cross-entropy over rows of logits, as torch.nn.functional.cross_entropy:
//
//   loss_n = -Σ_v q_nv · log_softmax(x_n)_v,  q_n = (1 - eps) onehot(t_n) + eps / V
//   loss   = Σ over kept rows (target not ignoreIndex) of loss_n / (number kept, at least 1)
//   dx_n   = (softmax(x_n) - q_n) · dy / count
//
// log_softmax is computed stably (the row max subtracted). The gradient is
// written by hand, both exact and far cheaper than differentiating through
// the log-softmax graph. On wasm with @tx's kernels, one pass each way
// (kernels/crossentropy.ts), with no [N, V] target tensor: at GPT-2's
// vocabulary and 1,024 tokens that tensor alone is 200 MB. On webgpu, one
// dispatch each way: forward is one workgroup whose threads take rows (the
// mean needs every row), backward one thread per logit. There a target out of
// range makes the loss NaN rather than an error: checking would read the ids
// back, a stall.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ValueError } from '../errors.js';
import { jobs } from '../kernels/jobs.generated.js';
import type { WasmBackend } from '../kernels/wasm.js';
import { tf } from '../tf.js';
import { BUILTINS, grid, item } from '../webgpu/program.js';
import { bufferOf, differentiable, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel } from './define.js';

/** Settings of crossEntropy: a target id to ignore, and label smoothing. */
export interface CrossEntropySettings {
  /** Rows whose target is this id (padding) add nothing to the loss or the count. Default: none. */
  ignoreIndex?: number;
  /** Label smoothing eps in [0, 1): the target is (1 - eps) one-hot + eps / V. Default 0. */
  labelSmoothing?: number;
}

/**
 * The mean softmax cross-entropy of logits [N, V] against int32 targets [N] (a scalar; 0
 * if every row is ignored). On wasm a target out of [0, V) is a ValueError naming it.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, { ignoreIndex, labelSmoothing = 0 }: CrossEntropySettings = {}): tf.Scalar {
  const settings = { hasIgnore: ignoreIndex !== undefined, ignore: ignoreIndex ?? 0, eps: labelSmoothing };
  if (logits.rank === 2 && targets.rank === 1 && targets.dtype === 'int32') {
    if (onWasm(logits)) return fused(settings, logits, targets) as tf.Scalar;
    if (onWebGPU(logits)) return onGPU(settings, logits, targets) as tf.Scalar;
  }
  return tf.tidy(() => {
    const V = logits.shape[1]!;
    // keep: 1 where the target counts; ignored ids become class 0, then masked. oneHot(...).toFloat(): docs/performance.md §3.
    const keep = ignoreIndex === undefined ? tf.onesLike(targets).toFloat() : tf.notEqual(targets, ignoreIndex).toFloat();
    const safeTargets = ignoreIndex === undefined ? targets : tf.where(tf.cast(keep, 'bool'), targets, tf.zerosLike(targets));
    const q = tf.add(tf.mul(tf.oneHot(safeTargets, V).toFloat(), 1 - labelSmoothing), labelSmoothing / V);
    return reference(null, logits, q, keep, tf.maximum(tf.sum(keep), 1)) as tf.Scalar;
  });
}

// The reference. logits [N, V], q [N, V] the target distribution, keep [N], count: a scalar.
const reference = differentiable(() => ({
  forward: (logits, q, keep, count) => {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const logProbs = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
    const perRow = tf.neg(tf.sum(tf.mul(q, logProbs), -1));
    return { value: tf.div(tf.sum(tf.mul(perRow, keep)), count), saved: [logProbs, q, keep, count] };
  },
  backward: (dy, [logProbs, q, keep, count]) => {
    const weight = tf.div(tf.reshape(keep, [-1, 1]), count);
    return [tf.mul(tf.mul(tf.sub(tf.exp(logProbs), q), weight), dy), tf.zerosLike(q), tf.zerosLike(keep), tf.zerosLike(count)];
  },
}));

type Settings = { hasIgnore: boolean; ignore: number; eps: number };

// The wasm binding. logits [N, V], int32 targets [N] -> the mean loss (a scalar) and each row's log-sum-exp [N].
const forwardKernel = wasmKernel('TxCrossEntropy', ({ inputs: { logits, targets }, attrs, backend }) => {
  const [N, V] = logits.shape;
  const a = attrs as Settings;
  checkTargets(backend, targets, V, a);
  const [loss, lse] = [backend.makeOutput([], 'float32'), backend.makeOutput([N], 'float32')];
  const b = (t: TensorInfo) => bufferOf(backend, t);
  run(jobs.crossEntropy({ x: b(logits), targets: b(targets), N, V, hasIgnore: a.hasIgnore, ignore: a.ignore, eps: a.eps, lse: b(lse), out: b(loss) }));
  return [loss, lse];
});

const backwardKernel = wasmKernel('TxCrossEntropyGrad', ({ inputs: { logits, targets, lse, dy }, attrs, backend }) => {
  const [N, V] = logits.shape;
  const dx = backend.makeOutput([N, V], 'float32');
  const b = (t: TensorInfo) => bufferOf(backend, t);
  run(jobs.crossEntropyGrad({ x: b(logits), targets: b(targets), lse: b(lse), dy: b(dy), N, V, ...(attrs as Settings), dx: b(dx) }));
  return dx;
});

const fused = differentiable((settings: Settings) => ({
  forward: (logits, targets) => {
    const [loss, lse] = forwardKernel({ logits, targets }, settings);
    return { value: loss, saved: [logits, lse, targets] };
  },
  // The integer targets get no gradient (zeros, as tfjs wants one per input).
  backward: (dy, [logits, lse, targets]) => [backwardKernel({ logits, targets, lse, dy }, settings)[0], tf.zerosLike(targets)],
}));

/** Every target id is in [0, V) or the ignored one: the kernels index rows with them. */
function checkTargets(backend: WasmBackend, targets: TensorInfo, V: number, { hasIgnore, ignore }: Settings): void {
  const ids = new Int32Array(backend.wasm.HEAP32.buffer, bufferOf(backend, targets).offset, tf.util.sizeFromShape(targets.shape));
  for (let n = 0; n < ids.length; n++) {
    const t = ids[n];
    if ((t < 0 || t >= V) && !(hasIgnore && t === ignore)) throw new ValueError(`crossEntropy: target id ${t} at row ${n} is out of range [0, ${V})`);
  }
}

// The WebGPU binding. logits [N, V], int32 targets [N] -> loss [], lse [N], count [1] (rows kept, at least 1).
const gpuForward = webgpuKernel('TxCrossEntropy', ({ inputs: { logits, targets }, attrs, backend }) => {
  const [N, V] = logits.shape;
  const a = attrs as Settings;
  return runProgram(backend, {
    key: 'crossEntropy',
    inputs: [{ name: 'x', tensor: logits }, { name: 'targets', tensor: targets }],
    outputs: [{ name: 'loss', shape: [] }, { name: 'lse', shape: [N] }, { name: 'count', shape: [1] }],
    params: [{ name: 'N', type: 'u32', value: N }, { name: 'V', type: 'u32', value: V }, { name: 'hasIgnore', type: 'u32', value: a.hasIgnore ? 1 : 0 },
      { name: 'ignore', type: 'i32', value: a.ignore }, { name: 'eps', type: 'f32', value: a.eps }, { name: 'nan', type: 'f32', value: NaN }],
    workgroups: [1],
    body: `var<workgroup> lossPart: array<f32, 256>;
var<workgroup> keptPart: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(local_invocation_index) t: u32) {
  var total = 0.0;
  var kept = 0.0;
  for (var n = t; n < u.N; n += 256u) {
    let base = n * u.V;
    var mx = x[base];
    var sx = 0.0;
    for (var v = 0u; v < u.V; v++) { mx = max(mx, x[base + v]); sx += x[base + v]; }
    var se = 0.0;
    for (var v = 0u; v < u.V; v++) { se += exp(x[base + v] - mx); }
    let l = mx + log(se);
    lse[n] = l;
    let id = targets[n];
    if (u.hasIgnore == 1u && id == u.ignore) { continue; }
    var xt = u.nan; // a target out of range (WGSL has no NaN literal)
    if (id >= 0 && u32(id) < u.V) { xt = x[base + u32(id)]; }
    // -Σ q log p = lse - Σ q x, q = (1 - eps) onehot + eps / V
    total += l - ((1.0 - u.eps) * xt + u.eps / f32(u.V) * sx);
    kept += 1.0;
  }
  lossPart[t] = total;
  keptPart[t] = kept;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (t < w) { lossPart[t] += lossPart[t + w]; keptPart[t] += keptPart[t + w]; }
    workgroupBarrier();
  }
  if (t == 0u) {
    let c = max(keptPart[0], 1.0);
    loss[0] = lossPart[0] / c;
    count[0] = c;
  }
}`,
  });
});

// -> dx [N, V] = (softmax - q) · dy / count on kept rows, 0 on ignored ones.
const gpuBackward = webgpuKernel('TxCrossEntropyGrad', ({ inputs: { logits, targets, lse, count, dy }, attrs, backend }) => {
  const [N, V] = logits.shape;
  const a = attrs as Settings;
  return runProgram(backend, {
    key: 'crossEntropyGrad',
    inputs: [{ name: 'x', tensor: logits }, { name: 'targets', tensor: targets }, { name: 'lse', tensor: lse }, { name: 'count', tensor: count }, { name: 'dy', tensor: dy }],
    outputs: [{ name: 'dx', shape: [N, V] }],
    params: [{ name: 'n', type: 'u32', value: N * V }, { name: 'V', type: 'u32', value: V }, { name: 'hasIgnore', type: 'u32', value: a.hasIgnore ? 1 : 0 },
      { name: 'ignore', type: 'i32', value: a.ignore }, { name: 'eps', type: 'f32', value: a.eps }],
    workgroups: grid(N * V, 64),
    body: `@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${item(64)};
  if (i >= u.n) { return; }
  let row = i / u.V;
  let id = targets[row];
  if (u.hasIgnore == 1u && id == u.ignore) { dx[i] = 0.0; return; }
  var q = u.eps / f32(u.V);
  if (i - row * u.V == u32(id)) { q += 1.0 - u.eps; }
  dx[i] = (exp(x[i] - lse[row]) - q) * dy[0] / count[0];
}`,
  });
});

const onGPU = differentiable((settings: Settings) => ({
  forward: (logits, targets) => {
    const [loss, lse, count] = gpuForward({ logits, targets }, settings);
    return { value: loss, saved: [logits, lse, count, targets] };
  },
  backward: (dy, [logits, lse, count, targets]) => [gpuBackward({ logits, targets, lse, count, dy }, settings)[0], tf.zerosLike(targets)],
}));
