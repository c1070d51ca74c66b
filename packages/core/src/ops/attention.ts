// Scaled dot-product attention without extras (no mask but the causal one,
// no dropout, the probabilities not returned): what @tx/attention calls in
// the common case, in two layouts.
//
//   attention(q, k, v):    q [B, h, Tq, d], k and v [B, h, Tk, d] -> [B, h, Tq, d]
//   selfAttention(qkv, H): qkv [B, T, 3C] (q, k, v side by side, as nanoGPT's
//                          c_attn gives them) -> [B, T, C], heads merged
//
//   forward:  P = softmax(scale · Q Kᵀ (+ causal mask));  O = P V
//   backward: dV = Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP - rowsum(dO ∘ O)) · scale;  dQ = dS K;  dK = dSᵀ Q
//
// With `causal`, query i sees keys up to its position Tk - Tq + i. On wasm
// with @tx's kernels, one fused kernel each way (kernels/attention.ts): the
// [Tq, Tk] probabilities live in scratch, one head at a time, and the
// backward pass recomputes them from each row's log-sum-exp; large jobs are
// split between a pool's threads, whole heads each. On webgpu, one dispatch
// forward (a thread per query row, an online softmax over its keys: no
// [Tq, Tk] tensor in GPU memory) and one backward in the packed layout (threads
// per query row for dQ, per key row for dK and dV, each recomputing the
// probabilities from lse; two dispatches in the [B, h, T, d] layout, whose
// nine buffers exceed the 8 a shader may bind). Elsewhere, tfjs ops.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { jobs } from '../kernels/jobs.generated.js';
import type { WasmBackend } from '../kernels/wasm.js';
import { tf } from '../tf.js';
import { BUILTINS, grid, item } from '../webgpu/program.js';
import { bufferOf, differentiable, kernelScratch, onWasm, onWebGPU, run, runProgram, wasmKernel, webgpuKernel, type WebGPUKernelArgs } from './define.js';

/** Settings of attention and selfAttention: the scores' scale, and whether a query sees only keys up to its position. */
export interface AttentionSettings {
  scale: number;
  causal: boolean;
}

/** softmax(q kᵀ · scale (+ causal mask)) v for q [B, h, Tq, d], k and v [B, h, Tk, d] -> [B, h, Tq, d]. */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, settings: AttentionSettings): tf.Tensor {
  const [B, h, , d] = q.shape;
  const fits = q.rank === 4 && k.shape.join() === v.shape.join() && k.shape.join() === `${B},${h},${k.shape[2]},${d}`;
  if (fits && onWasm(q, k, v)) return fused(settings, q, k, v);
  if (fits && d <= MAX_HEAD_DIM && onWebGPU(q, k, v)) return gpuSeparate(settings, q, k, v);
  return reference(q, k, v, settings);
}

/**
 * Multi-head self-attention straight from a fused projection: qkv [B, T, 3C]
 * holds Q, K and V side by side (heads of d = C / heads) -> [B, T, C], the heads
 * merged, ready for the output projection. On wasm: no split, transposes or
 * concatenation, either way.
 */
export function selfAttention(qkv: tf.Tensor, heads: number, settings: AttentionSettings): tf.Tensor {
  if (qkv.rank === 3 && qkv.shape[2]! % (3 * heads) === 0 && onWasm(qkv)) return fusedPacked({ heads, ...settings }, qkv);
  if (qkv.rank === 3 && qkv.shape[2]! % (3 * heads) === 0 && qkv.shape[2]! / 3 / heads <= MAX_HEAD_DIM && onWebGPU(qkv)) return gpuPacked({ heads, ...settings }, qkv);
  return tf.tidy(() => {
    const [B, T, C3] = qkv.shape;
    const d = C3 / 3 / heads;
    const [q, k, v] = tf.unstack(tf.transpose(tf.reshape(qkv, [B, T, 3, heads, d]), [2, 0, 3, 1, 4])); // 3 x [B, H, T, d]
    return tf.reshape(tf.transpose(reference(q, k, v, settings), [0, 2, 1, 3]), [B, T, C3 / 3]);
  });
}

// The reference: tfjs ops, differentiated by tfjs.
function reference(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, { scale, causal }: AttentionSettings): tf.Tensor {
  return tf.tidy(() => {
    let scores = tf.mul(tf.matMul(q, k, false, true), scale); // [B, h, Tq, Tk]
    if (causal) scores = tf.add(scores, causalMask(q.shape[2]!, k.shape[2]!));
    return tf.matMul(tf.softmax(scores), v);
  });
}

/** [Tq, Tk]: 0 where query i may see key j (j <= i + Tk - Tq), -Infinity elsewhere. */
function causalMask(Tq: number, Tk: number): tf.Tensor {
  const mask = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) mask.fill(-Infinity, i * Tk + Math.max(0, i + Tk - Tq + 1), (i + 1) * Tk);
  return tf.tensor2d(mask, [Tq, Tk]);
}

type Kernel = (inputs: Record<string, tf.Tensor>, attrs?: object) => tf.Tensor[];

/**
 * Every attention kernel pair here, wasm or WGSL, separate or packed, is wired
 * the same way: the forward kernel returns the output and each row's
 * log-sum-exp, and the backward kernel takes the inputs (by `names`), both, and
 * dout, so the [Tq, Tk] probabilities are recomputed instead of kept.
 */
function withLogSumExp<S>(names: readonly string[], forward: Kernel, backward: Kernel) {
  // A plain loop, then fields set on the result: no { ...x, more } spread on this per-step path (docs/performance.md §6).
  const named = (tensors: tf.Tensor[]) => {
    const byName: Record<string, tf.Tensor> = {};
    for (let i = 0; i < names.length; i++) byName[names[i]] = tensors[i];
    return byName;
  };
  return differentiable((settings: S) => ({
    forward: (...inputs) => {
      const [out, lse] = forward(named(inputs), settings as object);
      return { value: out, saved: [...inputs, out, lse] };
    },
    backward: (dout, saved) => {
      const inputs = named(saved);
      inputs.out = saved[names.length];
      inputs.lse = saved[names.length + 1];
      inputs.dout = dout;
      return backward(inputs, settings as object);
    },
  }));
}

// The wasm binding. A pool's threads take whole heads when there are at least 2 and this many multiply-adds.
const POOLED_MACS = 1 << 20;
const pooled = (heads: number, Tq: number, Tk: number, d: number) => heads >= 2 && heads * Tq * Tk * d >= POOLED_MACS;

// q [B, h, Tq, d], k and v [B, h, Tk, d] -> out [B, h, Tq, d] and lse [B, h, Tq].
const forwardKernel = wasmKernel('TxAttention', ({ inputs: { q, k, v }, attrs, backend }) => {
  const [B, h, Tq, d] = q.shape;
  const Tk = k.shape[2];
  const [out, lse] = [backend.makeOutput([B, h, Tq, d], 'float32'), backend.makeOutput([B, h, Tq], 'float32')];
  const b = (t: typeof q) => bufferOf(backend, t);
  const { scale, causal } = attrs as unknown as AttentionSettings;
  const scratch = kernelScratch().attentionScratch(Tq, Tk, d);
  run(jobs.attentionForward({ q: b(q), k: b(k), v: b(v), out: b(out), lse: b(lse), Tq, Tk, d, scale, causal, heads: B * h, scratch }), pooled(B * h, Tq, Tk, d));
  return [out, lse];
});

// -> dq, dk, dv, recomputing the probabilities from lse.
const backwardKernel = wasmKernel('TxAttentionGrad', ({ inputs: { q, k, v, out, lse, dout }, attrs, backend }) => {
  const [B, h, Tq, d] = q.shape;
  const Tk = k.shape[2];
  const [dq, dk, dv] = [q, k, v].map((t) => backend.makeOutput(t.shape, 'float32'));
  const b = (t: typeof q) => bufferOf(backend, t);
  const { scale, causal } = attrs as unknown as AttentionSettings;
  const scratch = kernelScratch().attentionScratch(Tq, Tk, d);
  const job = { q: b(q), k: b(k), v: b(v), out: b(out), lse: b(lse), dout: b(dout), dq: b(dq), dk: b(dk), dv: b(dv), Tq, Tk, d, scale, causal, heads: B * h, scratch };
  run(jobs.attentionBackward(job), pooled(B * h, Tq, Tk, d));
  return [dq, dk, dv];
});

const fused = withLogSumExp<AttentionSettings>(['q', 'k', 'v'], forwardKernel, backwardKernel);

// qkv [B, T, 3C] -> out [B, T, C] (heads merged) and lse [B, H, T]; attrs.heads = H.
const packedForwardKernel = wasmKernel('TxAttentionPacked', ({ inputs: { qkv }, attrs, backend }) => {
  const { B, T, H, d, job } = packedJob(backend, qkv, attrs);
  const [out, lse] = [backend.makeOutput([B, T, H * d], 'float32'), backend.makeOutput([B, H, T], 'float32')];
  run(jobs.attentionPackedForward(Object.assign(job, { out: bufferOf(backend, out), lse: bufferOf(backend, lse) })), pooled(B * H, T, T, d));
  return [out, lse];
});

// -> dqkv [B, T, 3C], recomputing the probabilities from lse.
const packedBackwardKernel = wasmKernel('TxAttentionPackedGrad', ({ inputs: { qkv, out, lse, dout }, attrs, backend }) => {
  const { B, T, H, d, job } = packedJob(backend, qkv, attrs);
  const dqkv = backend.makeOutput(qkv.shape, 'float32');
  const b = (t: typeof qkv) => bufferOf(backend, t);
  run(jobs.attentionPackedBackward(Object.assign(job, { out: b(out), lse: b(lse), dout: b(dout), dqkv: b(dqkv) })), pooled(B * H, T, T, d));
  return dqkv;
});

/** Packed attention's sizes, and the job's fields that both directions share. */
function packedJob(backend: WasmBackend, qkv: TensorInfo, attrs: Record<string, unknown>) {
  const [B, T, C3] = qkv.shape;
  const { heads: H, scale, causal } = attrs as unknown as AttentionSettings & { heads: number };
  const d = C3 / 3 / H;
  const job = { qkv: bufferOf(backend, qkv), H, T, d, scale, causal, heads: B * H, scratch: kernelScratch().attentionScratch(T, T, d) };
  return { B, T, H, d, job };
}

const fusedPacked = withLogSumExp<AttentionSettings & { heads: number }>(['qkv'], packedForwardKernel, packedBackwardKernel);

// The WebGPU binding. Each tensor's layout is strides: element c of row i of head h of batch b
// is at b·sB + h·sH + i·sT + offset + c. The packed layout reads q, k, v from one qkv [B, T, 3C].

/** A head's row lives in a thread's registers: the widest head dim the WGSL kernels take. */
const MAX_HEAD_DIM = 128;

type Layout = [sB: number, sH: number, sT: number, offset: number];
const rows = (H: number, T: number, d: number): Layout => [H * T * d, T * d, d, 0]; // [B, H, T, d]
const packed = (T: number, C: number, d: number, part: number): Layout => [T * 3 * C, d, 3 * C, part * C]; // qkv [B, T, 3C]
const merged = (T: number, C: number, d: number): Layout => [T * C, d, C, 0]; // [B, T, C], heads side by side

interface Sizes { B: number; H: number; Tq: number; Tk: number; d: number; scale: number; causal: boolean }

function layoutParams(names: Record<string, Layout>) {
  return Object.entries(names).flatMap(([n, l]) => ['B', 'H', 'T', 'O'].map((f, i) => ({ name: `${n}${f}`, type: 'u32' as const, value: l[i] })));
}

function sizeParams({ B, H, Tq, Tk, scale, causal }: Sizes) {
  return [
    { name: 'B', type: 'u32' as const, value: B }, { name: 'H', type: 'u32' as const, value: H }, { name: 'Tq', type: 'u32' as const, value: Tq },
    { name: 'Tk', type: 'u32' as const, value: Tk }, { name: 'scale', type: 'f32' as const, value: scale }, { name: 'causal', type: 'u32' as const, value: causal ? 1 : 0 },
  ];
}

// WGSL shared by both directions: where a row starts, and the last key a query row sees.
const ATTENTION_WGSL = (d: number) => `const D = ${d}u;
fn at(b: u32, h: u32, i: u32, sB: u32, sH: u32, sT: u32, o: u32) -> u32 { return b * sB + h * sH + i * sT + o; }
fn lastKey(i: u32) -> i32 { if (u.causal == 1u) { return i32(i + u.Tk) - i32(u.Tq); } return i32(u.Tk) - 1; }`;

/** Forward: q, k, v (or qkv) -> out, lse [B, H, Tq]. `src` names each of q, k, v's array. */
function forwardProgram(args: WebGPUKernelArgs, s: Sizes, inputs: Record<string, TensorInfo>, src: { q: string; k: string; v: string }, lay: Record<'q' | 'k' | 'v' | 'o', Layout>, outShape: number[]) {
  const n = s.B * s.H * s.Tq;
  return runProgram(args.backend, {
    key: `attention:${s.d}:${Object.keys(inputs).join()}`,
    inputs: Object.entries(inputs).map(([name, tensor]) => ({ name, tensor })),
    outputs: [{ name: 'out', shape: outShape }, { name: 'lse', shape: [s.B, s.H, s.Tq] }],
    params: [...sizeParams(s), ...layoutParams(lay)],
    workgroups: grid(n, 64),
    body: `${ATTENTION_WGSL(s.d)}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let g = ${item(64)};
  if (g >= u.B * u.H * u.Tq) { return; }
  let i = g % u.Tq;
  let h = (g / u.Tq) % u.H;
  let b = g / (u.Tq * u.H);
  let qb = at(b, h, i, u.qB, u.qH, u.qT, u.qO);
  var qRow: array<f32, D>;
  var acc: array<f32, D>;
  for (var c = 0u; c < D; c++) { qRow[c] = ${src.q}[qb + c]; }
  var m = -3.0e38;
  var l = 0.0;
  let last = lastKey(i);
  for (var j = 0; j <= last; j++) {
    let kb = at(b, h, u32(j), u.kB, u.kH, u.kT, u.kO);
    let vb = at(b, h, u32(j), u.vB, u.vH, u.vT, u.vO);
    var dot = 0.0;
    for (var c = 0u; c < D; c++) { dot += qRow[c] * ${src.k}[kb + c]; }
    let sc = dot * u.scale;
    let mNew = max(m, sc);
    let corr = exp(m - mNew);
    let p = exp(sc - mNew);
    l = l * corr + p;
    for (var c = 0u; c < D; c++) { acc[c] = acc[c] * corr + p * ${src.v}[vb + c]; }
    m = mNew;
  }
  let ob = at(b, h, i, u.oB, u.oH, u.oT, u.oO);
  for (var c = 0u; c < D; c++) { out[ob + c] = acc[c] / l; }
  lse[g] = m + log(l);
}`,
  });
}

/**
 * Backward: threads g < B·H·Tq take a query row's dQ (role 'q'), the next B·H·Tk a key row's dK and dV
 * (role 'kv'); `roles` says which this dispatch runs, `dst` the arrays each writes.
 */
function backwardProgram(args: WebGPUKernelArgs, s: Sizes, inputs: Record<string, TensorInfo>, src: { q: string; k: string; v: string }, lay: Record<'q' | 'k' | 'v' | 'o', Layout>,
  outputs: Array<{ name: string; shape: number[] }>, roles: { q: boolean; kv: boolean }, dst: { q: string; k: string; v: string }) {
  const nq = roles.q ? s.B * s.H * s.Tq : 0;
  const nk = roles.kv ? s.B * s.H * s.Tk : 0;
  const queryRole = `
    let i = g % u.Tq;
    let h = (g / u.Tq) % u.H;
    let b = g / (u.Tq * u.H);
    let qb = at(b, h, i, u.qB, u.qH, u.qT, u.qO);
    let ob = at(b, h, i, u.oB, u.oH, u.oT, u.oO);
    var qRow: array<f32, D>;
    var dORow: array<f32, D>;
    var dqRow: array<f32, D>;
    var Di = 0.0;
    for (var c = 0u; c < D; c++) { qRow[c] = ${src.q}[qb + c]; dORow[c] = dout[ob + c]; Di += dORow[c] * out[ob + c]; }
    let L = lse[g];
    let last = lastKey(i);
    for (var j = 0; j <= last; j++) {
      let kb = at(b, h, u32(j), u.kB, u.kH, u.kT, u.kO);
      let vb = at(b, h, u32(j), u.vB, u.vH, u.vT, u.vO);
      var dot = 0.0;
      var dP = 0.0;
      for (var c = 0u; c < D; c++) { dot += qRow[c] * ${src.k}[kb + c]; dP += dORow[c] * ${src.v}[vb + c]; }
      let dS = exp(dot * u.scale - L) * (dP - Di);
      for (var c = 0u; c < D; c++) { dqRow[c] += dS * ${src.k}[kb + c]; }
    }
    for (var c = 0u; c < D; c++) { ${dst.q}[qb + c] = dqRow[c] * u.scale; }`;
  const keyRole = `
    let gk = g - u.nq;
    let j = gk % u.Tk;
    let h = (gk / u.Tk) % u.H;
    let b = gk / (u.Tk * u.H);
    let kb = at(b, h, j, u.kB, u.kH, u.kT, u.kO);
    let vb = at(b, h, j, u.vB, u.vH, u.vT, u.vO);
    var kRow: array<f32, D>;
    var vRow: array<f32, D>;
    var dkRow: array<f32, D>;
    var dvRow: array<f32, D>;
    for (var c = 0u; c < D; c++) { kRow[c] = ${src.k}[kb + c]; vRow[c] = ${src.v}[vb + c]; }
    var first = 0;
    if (u.causal == 1u) { first = max(0, i32(j) + i32(u.Tq) - i32(u.Tk)); }
    for (var i = u32(first); i < u.Tq; i++) {
      let qb = at(b, h, i, u.qB, u.qH, u.qT, u.qO);
      let ob = at(b, h, i, u.oB, u.oH, u.oT, u.oO);
      var dot = 0.0;
      var dP = 0.0;
      var Di = 0.0;
      for (var c = 0u; c < D; c++) {
        let dOc = dout[ob + c];
        dot += ${src.q}[qb + c] * kRow[c];
        dP += dOc * vRow[c];
        Di += dOc * out[ob + c];
      }
      let p = exp(dot * u.scale - lse[(b * u.H + h) * u.Tq + i]);
      let dS = p * (dP - Di);
      for (var c = 0u; c < D; c++) { dvRow[c] += p * dout[ob + c]; dkRow[c] += dS * ${src.q}[qb + c]; }
    }
    for (var c = 0u; c < D; c++) { ${dst.k}[kb + c] = dkRow[c] * u.scale; ${dst.v}[vb + c] = dvRow[c]; }`;
  return runProgram(args.backend, {
    key: `attentionGrad:${s.d}:${Object.keys(inputs).join()}:${outputs.map((o) => o.name).join()}`,
    inputs: Object.entries(inputs).map(([name, tensor]) => ({ name, tensor })),
    outputs,
    params: [...sizeParams(s), ...layoutParams(lay), { name: 'nq', type: 'u32', value: nq }, { name: 'nk', type: 'u32', value: nk }],
    workgroups: grid(nq + nk, 64),
    body: `${ATTENTION_WGSL(s.d)}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let g = ${item(64)};
  if (g >= u.nq + u.nk) { return; }
  ${roles.q && roles.kv ? `if (g < u.nq) {${queryRole}
  } else {${keyRole}
  }` : roles.q ? queryRole : keyRole}
}`,
  });
}

// [B, h, T, d] tensors: q, k, v -> out, lse.
const gpuForwardSeparate = webgpuKernel('TxAttention', (args) => {
  const { q, k, v } = args.inputs;
  const [B, H, Tq, d] = q.shape;
  const Tk = k.shape[2];
  const s = { B, H, Tq, Tk, d, ...(args.attrs as unknown as AttentionSettings) };
  return forwardProgram(args, s, { q, k, v }, { q: 'q', k: 'k', v: 'v' }, { q: rows(H, Tq, d), k: rows(H, Tk, d), v: rows(H, Tk, d), o: rows(H, Tq, d) }, [B, H, Tq, d]);
});

// -> dq, dk, dv: two dispatches (q, k, v, out, lse, dout and three gradients are 9 buffers).
const gpuBackwardSeparate = webgpuKernel('TxAttentionGrad', (args) => {
  const { q, k, v, out, lse, dout } = args.inputs;
  const [B, H, Tq, d] = q.shape;
  const Tk = k.shape[2];
  const s = { B, H, Tq, Tk, d, ...(args.attrs as unknown as AttentionSettings) };
  const lay = { q: rows(H, Tq, d), k: rows(H, Tk, d), v: rows(H, Tk, d), o: rows(H, Tq, d) };
  const inputs = { q, k, v, out, lse, dout };
  const src = { q: 'q', k: 'k', v: 'v' };
  const dst = { q: 'dq', k: 'dk', v: 'dv' };
  const [dq] = backwardProgram(args, s, inputs, src, lay, [{ name: 'dq', shape: q.shape }], { q: true, kv: false }, dst);
  const [dk, dv] = backwardProgram(args, s, inputs, src, lay, [{ name: 'dk', shape: k.shape }, { name: 'dv', shape: v.shape }], { q: false, kv: true }, dst);
  return [dq, dk, dv];
});

const gpuSeparate = withLogSumExp<AttentionSettings>(['q', 'k', 'v'], gpuForwardSeparate, gpuBackwardSeparate);

function packedSizes(qkv: TensorInfo, attrs: Record<string, unknown>) {
  const [B, T, C3] = qkv.shape;
  const { heads: H, scale, causal } = attrs as unknown as AttentionSettings & { heads: number };
  const C = C3 / 3;
  const d = C / H;
  const lay = { q: packed(T, C, d, 0), k: packed(T, C, d, 1), v: packed(T, C, d, 2), o: merged(T, C, d) };
  return { s: { B, H, Tq: T, Tk: T, d, scale, causal }, lay, C };
}

// qkv [B, T, 3C] -> out [B, T, C] (heads merged), lse [B, H, T].
const gpuForwardPacked = webgpuKernel('TxAttentionPacked', (args) => {
  const { qkv } = args.inputs;
  const { s, lay, C } = packedSizes(qkv, args.attrs);
  return forwardProgram(args, s, { qkv }, { q: 'qkv', k: 'qkv', v: 'qkv' }, lay, [s.B, s.Tq, C]);
});

// -> dqkv [B, T, 3C], in one dispatch.
const gpuBackwardPacked = webgpuKernel('TxAttentionPackedGrad', (args) => {
  const { qkv, out, lse, dout } = args.inputs;
  const { s, lay } = packedSizes(qkv, args.attrs);
  return backwardProgram(args, s, { qkv, out, lse, dout }, { q: 'qkv', k: 'qkv', v: 'qkv' }, lay, [{ name: 'dqkv', shape: qkv.shape }], { q: true, kv: true }, { q: 'dqkv', k: 'dqkv', v: 'dqkv' });
});

const gpuPacked = withLogSumExp<AttentionSettings & { heads: number }>(['qkv'], gpuForwardPacked, gpuBackwardPacked);
