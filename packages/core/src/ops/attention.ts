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
// split between a pool's threads, whole heads each. Elsewhere, tfjs ops.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { jobs } from '../kernels/jobs.generated.js';
import type { WasmBackend } from '../kernels/wasm.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, kernelScratch, onWasm, run, wasmKernel } from './define.js';

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

const fused = differentiable((settings: AttentionSettings) => ({
  forward: (q, k, v) => {
    const [out, lse] = forwardKernel({ q, k, v }, settings);
    return { value: out, saved: [q, k, v, out, lse] };
  },
  backward: (dout, [q, k, v, out, lse]) => backwardKernel({ q, k, v, out, lse, dout }, settings),
}));

// qkv [B, T, 3C] -> out [B, T, C] (heads merged) and lse [B, H, T]; attrs.heads = H.
const packedForwardKernel = wasmKernel('TxAttentionPacked', ({ inputs: { qkv }, attrs, backend }) => {
  const { B, T, H, d, job } = packedJob(backend, qkv, attrs);
  const [out, lse] = [backend.makeOutput([B, T, H * d], 'float32'), backend.makeOutput([B, H, T], 'float32')];
  run(jobs.attentionPackedForward({ ...job, out: bufferOf(backend, out), lse: bufferOf(backend, lse) }), pooled(B * H, T, T, d));
  return [out, lse];
});

// -> dqkv [B, T, 3C], recomputing the probabilities from lse.
const packedBackwardKernel = wasmKernel('TxAttentionPackedGrad', ({ inputs: { qkv, out, lse, dout }, attrs, backend }) => {
  const { B, T, H, d, job } = packedJob(backend, qkv, attrs);
  const dqkv = backend.makeOutput(qkv.shape, 'float32');
  const b = (t: typeof qkv) => bufferOf(backend, t);
  run(jobs.attentionPackedBackward({ ...job, out: b(out), lse: b(lse), dout: b(dout), dqkv: b(dqkv) }), pooled(B * H, T, T, d));
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

const fusedPacked = differentiable((settings: AttentionSettings & { heads: number }) => ({
  forward: (qkv) => {
    const [out, lse] = packedForwardKernel({ qkv }, settings);
    return { value: out, saved: [qkv, out, lse] };
  },
  backward: (dout, [qkv, out, lse]) => packedBackwardKernel({ qkv, out, lse, dout }, settings),
}));
