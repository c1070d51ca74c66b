// Fused kernels that tfjs has no name for: GELU, LayerNorm and AdamW, each one
// pass over memory instead of 6 to 20 tfjs kernels. They are registered on
// the wasm backend under Tx* names while the kernels are on; the ops in ops.ts
// call them, with gradients, and fall back to tfjs compositions when off.
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { ValueError } from '../errors.js';
import { POOL_OPS, runJob, type PoolBuffer, type ThreadPool } from './pool.js';
import { offsetOf, type KernelModule, type WasmBackend } from './wasm.js';

/** The names of the fused kernels (tfjs's registry is keyed by name and backend). */
export const FUSED = {
  gelu: 'TxGelu',
  geluGrad: 'TxGeluGrad',
  layerNorm: 'TxLayerNorm',
  layerNormGrad: 'TxLayerNormGrad',
  adamW: 'TxAdamW',
  crossEntropy: 'TxCrossEntropy',
  crossEntropyGrad: 'TxCrossEntropyGrad',
  attention: 'TxAttention',
  attentionGrad: 'TxAttentionGrad',
  attentionPacked: 'TxAttentionPacked',
  attentionPackedGrad: 'TxAttentionPackedGrad',
} as const;

interface Args {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: NamedAttrMap;
}

const config = (kernelName: string, fn: (args: Args) => TensorInfo | TensorInfo[]): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: fn as unknown as KernelFunc,
});

/** Element-wise kernels at least this long are split between a pool's threads (copying smaller ones costs more than it saves). */
const POOLED_ELEMENTS = 1 << 16;
/** Attention with at least this many multiply-adds per product pair goes to a pool, whole heads per thread. */
const POOLED_MACS = 1 << 20;

/** A float's bits as an int32 (how a pool job's arguments carry a float). */
const f32Bits = (x: number): number => new Int32Array(new Float32Array([x]).buffer)[0];

/**
 * Packed attention's sizes, whether it is large enough for a pool, and the
 * job's arguments after its buffers: H T d scale causal heads (threads.ts).
 */
function packedShape(qkv: TensorInfo, attrs: NamedAttrMap) {
  const [B, T, C3] = qkv.shape;
  const H = attrs.heads as number;
  const d = C3 / 3 / H;
  const bytes = { qkv: 4 * B * T * C3, out: (4 * B * T * C3) / 3, lse: 4 * B * H * T };
  const tail = [H, T, d, f32Bits(attrs.scale as number), attrs.causal ? 1 : 0, B * H];
  return { B, T, H, d, bytes, big: B * H >= 2 && B * H * T * T * d >= POOLED_MACS, tail };
}

/** The kernel configs of the fused ops, running on `k` (and `pool`'s threads for the large ones). */
export function fusedConfigs(k: KernelModule, pool: ThreadPool | null): KernelConfig[] {
  const { exports: w } = k;
  /** A pool job: on the pool when there is one and the work is `big`, else here, through the same code. */
  const job = (backend: WasmBackend, big: boolean, op: number, buffers: PoolBuffer[], perThread: number, args: Parameters<typeof runJob>[6]) =>
    runJob(big ? pool : null, k, () => backend.wasm.HEAPU8, op, buffers, perThread, args);
  return [
    // GELU and its gradient are pool jobs (kernels/threads.ts), on the pool's threads when long enough.
    config(FUSED.gelu, ({ inputs: { x }, backend, attrs }) => {
      const y = backend.makeOutput(x!.shape, 'float32');
      const n = util.sizeFromShape(x!.shape);
      const buffers = [{ offset: offsetOf(backend, x!), bytes: 4 * n }, { offset: offsetOf(backend, y), bytes: 4 * n, out: true }];
      job(backend, n >= POOLED_ELEMENTS, POOL_OPS.gelu, buffers, 0, ([xAt, yAt]) => [xAt, 0, yAt, n, attrs.approximate ? 1 : 0]);
      return y;
    }),
    config(FUSED.geluGrad, ({ inputs: { x, dy }, backend, attrs }) => {
      const dx = backend.makeOutput(x!.shape, 'float32');
      const n = util.sizeFromShape(x!.shape);
      const buffers = [{ offset: offsetOf(backend, x!), bytes: 4 * n }, { offset: offsetOf(backend, dy!), bytes: 4 * n }, { offset: offsetOf(backend, dx), bytes: 4 * n, out: true }];
      job(backend, n >= POOLED_ELEMENTS, POOL_OPS.geluGrad, buffers, 0, ([xAt, dyAt, dxAt]) => [xAt, dyAt, dxAt, n, attrs.approximate ? 1 : 0]);
      return dx;
    }),
    // x: [N, C], weight and bias: [C] -> y [N, C], mean [N], rstd [N].
    config(FUSED.layerNorm, ({ inputs: { x, weight, bias }, backend, attrs }) => {
      const [N, C] = x!.shape;
      const y = backend.makeOutput([N, C], 'float32');
      const mean = backend.makeOutput([N], 'float32');
      const rstd = backend.makeOutput([N], 'float32');
      w.layerNorm(offsetOf(backend, x!), offsetOf(backend, weight!), bias ? offsetOf(backend, bias) : 0, offsetOf(backend, y), offsetOf(backend, mean), offsetOf(backend, rstd), N, C, attrs.eps as number);
      return [y, mean, rstd];
    }),
    // -> dx [N, C], dweight [C] and, when attrs.bias, dbias [C].
    config(FUSED.layerNormGrad, ({ inputs: { x, weight, mean, rstd, dy }, backend, attrs }) => {
      const [N, C] = x!.shape;
      const dx = backend.makeOutput([N, C], 'float32');
      const dw = backend.makeOutput([C], 'float32');
      const db = attrs.bias ? backend.makeOutput([C], 'float32') : null;
      w.layerNormGrad(offsetOf(backend, x!), offsetOf(backend, weight!), offsetOf(backend, mean!), offsetOf(backend, rstd!), offsetOf(backend, dy!), offsetOf(backend, dx), offsetOf(backend, dw), db ? offsetOf(backend, db) : 0, N, C);
      return db ? [dx, dw, db] : [dx, dw];
    }),
    // Every parameter's AdamW update in one call: inputs p0.., m0.., v0.., g0.. (attrs.count of each) -> the new
    // params, then m's, then v's, then the gradients' global L2 norm (a scalar). With attrs.maxNorm > 0 the gradients
    // are scaled by min(1, maxNorm / (norm + 1e-6)) on the way in, as clip_grad_norm_; attrs.decays[i] is p_i's factor.
    config(FUSED.adamW, ({ inputs, backend, attrs }) => {
      const a = attrs as Record<string, number> & { decays: number[] };
      const tensor = (prefix: string, i: number) => inputs[`${prefix}${i}`]!;
      const slots = Array.from({ length: a.count }, (_, i) => ({ p: tensor('p', i), m: tensor('m', i), v: tensor('v', i), g: tensor('g', i) }));
      const outs = ['p', 'm', 'v'].map((k) => slots.map((s) => backend.makeOutput(s[k as 'p'].shape, 'float32')));
      const norm = backend.makeOutput([], 'float32');
      let total = 0; // float64 across parameters; float32 within one, as tf.sum
      for (const s of slots) total += w.sumOfSquares(offsetOf(backend, s.g), util.sizeFromShape(s.g.shape));
      const value = Math.fround(Math.sqrt(total));
      const scale = a.maxNorm > 0 ? k.scratch(16) : 0; // 0: no scaling
      const floats = new Float32Array(backend.wasm.HEAPU8.buffer); // after every allocation, which may grow the heap
      if (scale) floats[scale >>> 2] = Math.min(1, Math.fround(a.maxNorm / Math.fround(value + 1e-6)));
      floats[offsetOf(backend, norm) >>> 2] = value;
      slots.forEach((s, i) => {
        w.adamW(offsetOf(backend, s.p), offsetOf(backend, s.m), offsetOf(backend, s.v), offsetOf(backend, s.g), scale, offsetOf(backend, outs[0][i]), offsetOf(backend, outs[1][i]), offsetOf(backend, outs[2][i]), util.sizeFromShape(s.p.shape),
          a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.correction2, a.eps, a.decays[i], a.stepSize);
      });
      return [...outs.flat(), norm];
    }),
    // logits [N, V], int32 targets [N] -> the mean loss (a scalar) and each row's log-sum-exp [N].
    config(FUSED.crossEntropy, ({ inputs: { logits, targets }, backend, attrs }) => {
      const [N, V] = logits!.shape;
      const a = attrs as { hasIgnore: boolean; ignore: number; eps: number };
      checkTargets(backend, targets!, V, a);
      const loss = backend.makeOutput([], 'float32');
      const lse = backend.makeOutput([N], 'float32');
      w.crossEntropy(offsetOf(backend, logits!), offsetOf(backend, targets!), N, V, a.hasIgnore, a.ignore, a.eps, offsetOf(backend, lse), offsetOf(backend, loss));
      return [loss, lse];
    }),
    config(FUSED.crossEntropyGrad, ({ inputs: { logits, targets, lse, dy }, backend, attrs }) => {
      const [N, V] = logits!.shape;
      const a = attrs as { hasIgnore: boolean; ignore: number; eps: number };
      const dx = backend.makeOutput([N, V], 'float32');
      w.crossEntropyGrad(offsetOf(backend, logits!), offsetOf(backend, targets!), offsetOf(backend, lse!), offsetOf(backend, dy!), N, V, a.hasIgnore, a.ignore, a.eps, offsetOf(backend, dx));
      return dx;
    }),
    // q [B, h, Tq, d], k and v [B, h, Tk, d] -> out [B, h, Tq, d] and lse [B, h, Tq].
    config(FUSED.attention, ({ inputs: { q, k: keys, v }, backend, attrs }) => {
      const [B, h, Tq, d] = q!.shape;
      const Tk = keys!.shape[2];
      const out = backend.makeOutput([B, h, Tq, d], 'float32');
      const lse = backend.makeOutput([B, h, Tq], 'float32');
      w.attentionForward(offsetOf(backend, q!), offsetOf(backend, keys!), offsetOf(backend, v!), offsetOf(backend, out), offsetOf(backend, lse), B * h, Tq, Tk, d, attrs.scale as number, attrs.causal as boolean, k.scratch(w.attentionScratch(Tq, Tk, d)));
      return [out, lse];
    }),
    // -> dq, dk, dv, recomputing the weights from lse.
    config(FUSED.attentionGrad, ({ inputs: { q, k: keys, v, out, lse, dout }, backend, attrs }) => {
      const [B, h, Tq, d] = q!.shape;
      const Tk = keys!.shape[2];
      const grads = [q!, keys!, v!].map((t) => backend.makeOutput(t.shape, 'float32'));
      w.attentionBackward(offsetOf(backend, q!), offsetOf(backend, keys!), offsetOf(backend, v!), offsetOf(backend, out!), offsetOf(backend, lse!), offsetOf(backend, dout!), offsetOf(backend, grads[0]), offsetOf(backend, grads[1]), offsetOf(backend, grads[2]), B * h, Tq, Tk, d, attrs.scale as number, attrs.causal as boolean, k.scratch(w.attentionScratch(Tq, Tk, d)));
      return grads;
    }),
    // qkv [B, T, 3C] (q, k, v side by side) -> out [B, T, C] (heads merged) and lse [B, H, T]; attrs.heads = H.
    // A pool job: on the pool's threads, whole heads each, when large enough.
    config(FUSED.attentionPacked, ({ inputs: { qkv }, backend, attrs }) => {
      const { B, T, H, d, bytes, big, tail } = packedShape(qkv!, attrs);
      const out = backend.makeOutput([B, T, H * d], 'float32');
      const lse = backend.makeOutput([B, H, T], 'float32');
      const buffers = [{ offset: offsetOf(backend, qkv!), bytes: bytes.qkv }, { offset: offsetOf(backend, out), bytes: bytes.out, out: true }, { offset: offsetOf(backend, lse), bytes: bytes.lse, out: true }];
      job(backend, big, POOL_OPS.attention, buffers, w.attentionScratch(T, T, d), ([q, o, l], scratch, per) => [q, o, l, 0, 0, ...tail, scratch, per]);
      return [out, lse];
    }),
    // -> dqkv [B, T, 3C], recomputing the weights from lse.
    config(FUSED.attentionPackedGrad, ({ inputs: { qkv, out, lse, dout }, backend, attrs }) => {
      const { B, T, H, d, bytes, big, tail } = packedShape(qkv!, attrs);
      const dqkv = backend.makeOutput([B, T, 3 * H * d], 'float32');
      const buffers = [
        { offset: offsetOf(backend, qkv!), bytes: bytes.qkv },
        { offset: offsetOf(backend, out!), bytes: bytes.out },
        { offset: offsetOf(backend, lse!), bytes: bytes.lse },
        { offset: offsetOf(backend, dout!), bytes: bytes.out },
        { offset: offsetOf(backend, dqkv), bytes: bytes.qkv, out: true },
      ];
      job(backend, big, POOL_OPS.attentionGrad, buffers, w.attentionScratch(T, T, d), ([q, o, l, g, dq], scratch, per) => [q, o, l, g, dq, ...tail, scratch, per]);
      return dqkv;
    }),
  ];
}

/** Every target id is in [0, V) or the ignored one: the kernels index rows with them. */
function checkTargets(backend: WasmBackend, targets: TensorInfo, V: number, { hasIgnore, ignore }: { hasIgnore: boolean; ignore: number }): void {
  const ids = new Int32Array(backend.wasm.HEAP32.buffer, offsetOf(backend, targets), util.sizeFromShape(targets.shape));
  for (let n = 0; n < ids.length; n++) {
    const t = ids[n];
    if ((t < 0 || t >= V) && !(hasIgnore && t === ignore)) throw new ValueError(`crossEntropy: target id ${t} at row ${n} is out of range [0, ${V})`);
  }
}
