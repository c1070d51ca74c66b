// softmax(q kᵀ · scale) v for each (batch, head), forward and backward, one
// head at a time: its scores live in scratch, never as a [B, h, Tq, Tk]
// tensor, and every product goes through matmul.ts's packed micro-kernel
// (transposes as strides). The causal mask is where each row's softmax stops.
// The forward pass keeps each row's log-sum-exp; the backward pass recomputes
// the weights from it.
//
// Two layouts. Heads: q [BH, Tq, d], k and v [BH, Tk, d], out [BH, Tq, d].
// Packed (self-attention, what c_attn gives): q, k and v side by side in one
// [B, T, 3C] tensor, out [B, T, C] with the heads merged, so the model needs
// no split, no transposes and no concatenation; a head's rows are then C or
// 3C floats apart. With `causal`, query i sees keys 0..i + (Tk - Tq) (its
// position after a cache).
//
//   forward:  P = softmax(scale · Q Kᵀ);  O = P V;  lse_i = log Σ_t e^(s_it)
//   backward: dV = Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP - rowsum(dO ∘ O)) · scale
//             dQ = dS K;  dK = dSᵀ Q
import { exp4, hsum, logf } from './math';
import { matmul as product, matmulScratch } from './matmul';

/** Row i's visible keys: all Tk, or with `causal` those up to its position. */
// @ts-ignore: decorator
@inline function visible(i: i32, Tq: i32, Tk: i32, causal: bool): i32 {
  return causal ? max(0, min(Tk, i + Tk - Tq + 1)) : Tk;
}

/** Bytes of scratch that the forward and backward passes need (either layout). */
export function attentionScratch(Tq: i32, Tk: i32, d: i32): usize {
  const big = max(matmulScratch(Tq, Tk, d), max(matmulScratch(Tq, d, Tk), matmulScratch(Tk, d, Tq)));
  return (<usize>(2 * Tq * Tk + max(Tq, Tk) * d) << 2) + big + 64;
}

/**
 * Turn row i of scores s (length Tk) into weights in place: scaled, softmaxed
 * over the visible keys, 0 past them. Returns the row's log-sum-exp of the
 * scaled scores; with `lse` given, uses it instead of computing it.
 */
// @ts-ignore: decorator
@inline function softmaxRow(s: usize, n: i32, Tk: i32, scale: f32, given: bool, lse: f32): f32 {
  const sv = f32x4.splat(scale);
  const whole = n & ~3;
  let shift = lse;
  if (!given) {
    shift = -Infinity;
    for (let t = 0; t < n; t++) shift = Mathf.max(shift, load<f32>(s + (<usize>t << 2)) * scale);
  }
  const sh = f32x4.splat(shift);
  let total = f32x4.splat(0);
  for (let t = 0; t < whole; t += 4) {
    const at = <usize>t << 2;
    const e = exp4(f32x4.sub(f32x4.mul(v128.load(s + at), sv), sh));
    v128.store(s + at, e);
    total = f32x4.add(total, e);
  }
  let sum = hsum(total);
  for (let t = whole; t < n; t++) {
    const at = <usize>t << 2;
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(s + at) * scale - shift)), 0);
    store<f32>(s + at, e);
    sum += e;
  }
  for (let t = n; t < Tk; t++) store<f32>(s + (<usize>t << 2), 0);
  if (given) return lse;
  const inv = <f32>1 / sum;
  for (let t = 0; t < n; t++) store<f32>(s + (<usize>t << 2), load<f32>(s + (<usize>t << 2)) * inv);
  return shift + logf(sum);
}

/** Copies n rows of d floats from a (row stride aRow floats) to b (row stride bRow). */
function copyRows(a: usize, aRow: i32, b: usize, bRow: i32, n: i32, d: i32): void {
  for (let i = 0; i < n; i++) memory.copy(b + (<usize>(i * bRow) << 2), a + (<usize>(i * aRow) << 2), <usize>d << 2);
}

/**
 * One head's forward pass: q (Tq rows), k and v (Tk rows), out (Tq rows), each
 * row d floats with the given row strides; lse [Tq]. A product writes its rows
 * contiguously, so a strided out goes through the scratch o.
 */
function headForward(
  q: usize, qRow: i32, k: usize, kRow: i32, v: usize, vRow: i32, out: usize, outRow: i32, lse: usize,
  Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, P: usize, o: usize, work: usize,
): void {
  product(q, qRow, 1, k, 1, kRow, P, Tq, Tk, d, work); // Q Kᵀ
  for (let i = 0; i < Tq; i++) {
    const n = visible(i, Tq, Tk, causal);
    const row = P + (<usize>(i * Tk) << 2);
    const at = lse + (<usize>i << 2);
    if (n == 0) {
      memory.fill(row, 0, <usize>Tk << 2);
      store<f32>(at, -Infinity);
    } else {
      store<f32>(at, softmaxRow(row, n, Tk, scale, false, 0));
    }
  }
  const dst = outRow == d ? out : o;
  product(P, Tk, 1, v, vRow, 1, dst, Tq, d, Tk, work); // P V
  if (dst != out) copyRows(o, d, out, outRow, Tq, d);
}

/** One head's backward pass (strides as headForward): dq, dk, dv from the forward's inputs, out, lse and dout. */
function headBackward(
  q: usize, qRow: i32, k: usize, kRow: i32, v: usize, vRow: i32, out: usize, outRow: i32, lse: usize, dout: usize,
  dq: usize, dk: usize, dv: usize, gradRow: i32,
  Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, P: usize, dS: usize, o: usize, work: usize,
): void {
  const direct = gradRow == d; // the gradients' rows are contiguous: products write them in place
  product(q, qRow, 1, k, 1, kRow, P, Tq, Tk, d, work); // Q Kᵀ, then the weights from lse
  for (let i = 0; i < Tq; i++) {
    const n = visible(i, Tq, Tk, causal);
    const row = P + (<usize>(i * Tk) << 2);
    if (n == 0) memory.fill(row, 0, <usize>Tk << 2);
    else softmaxRow(row, n, Tk, scale, true, load<f32>(lse + (<usize>i << 2)));
  }
  product(P, 1, Tk, dout, outRow, 1, direct ? dv : o, Tk, d, Tq, work); // dV = Pᵀ dO
  if (!direct) copyRows(o, d, dv, gradRow, Tk, d);
  product(dout, outRow, 1, v, 1, vRow, dS, Tq, Tk, d, work); // dP = dO Vᵀ
  const sv = f32x4.splat(scale);
  for (let i = 0; i < Tq; i++) {
    // dS = P ∘ (dP - dO·O) · scale, in place over dP's row
    const oi = out + (<usize>(i * outRow) << 2);
    const gi = dout + (<usize>(i * outRow) << 2);
    let D: f32 = 0;
    for (let c = 0; c < d; c++) D += load<f32>(oi + (<usize>c << 2)) * load<f32>(gi + (<usize>c << 2));
    const Dv = f32x4.splat(D);
    const p = P + (<usize>(i * Tk) << 2);
    const s = dS + (<usize>(i * Tk) << 2);
    const whole = Tk & ~3;
    for (let t = 0; t < whole; t += 4) {
      const at = <usize>t << 2;
      v128.store(s + at, f32x4.mul(f32x4.mul(v128.load(p + at), f32x4.sub(v128.load(s + at), Dv)), sv));
    }
    for (let t = whole; t < Tk; t++) {
      const at = <usize>t << 2;
      store<f32>(s + at, load<f32>(p + at) * (load<f32>(s + at) - D) * scale);
    }
  }
  product(dS, Tk, 1, k, kRow, 1, direct ? dq : o, Tq, d, Tk, work); // dQ = dS K
  if (!direct) copyRows(o, d, dq, gradRow, Tq, d);
  product(dS, 1, Tk, q, qRow, 1, direct ? dk : o, Tk, d, Tq, work); // dK = dSᵀ Q
  if (!direct) copyRows(o, d, dk, gradRow, Tk, d);
}

/** The scratch areas: the weights P and dS [Tq, Tk], a head's rows o, and the products' work area. */
// @ts-ignore: decorator
@inline function areas(scratch: usize, Tq: i32, Tk: i32): usize {
  return scratch + (<usize>(2 * Tq * Tk) << 2);
}

/** Heads layout: out [BH, Tq, d] and lse [BH, Tq] for the heads in [first, last); scratch holds attentionScratch(Tq, Tk, d) bytes. */
export function attentionForward(q: usize, k: usize, v: usize, out: usize, lse: usize, Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, first: i32, last: i32, scratch: usize): void {
  const o = areas(scratch, Tq, Tk);
  const work = (o + (<usize>(max(Tq, Tk) * d) << 2) + 63) & ~63;
  for (let bh = first; bh < last; bh++) {
    const qo = <usize>(bh * Tq * d) << 2;
    const ko = <usize>(bh * Tk * d) << 2;
    headForward(q + qo, d, k + ko, d, v + ko, d, out + qo, d, lse + (<usize>(bh * Tq) << 2), Tq, Tk, d, scale, causal, scratch, o, work);
  }
}

/** Heads layout: dq [BH, Tq, d], dk and dv [BH, Tk, d] from the forward's inputs, out, lse and dout, for the heads in [first, last). */
export function attentionBackward(
  q: usize, k: usize, v: usize, out: usize, lse: usize, dout: usize,
  dq: usize, dk: usize, dv: usize, Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, first: i32, last: i32, scratch: usize,
): void {
  const dS = scratch + (<usize>(Tq * Tk) << 2);
  const o = areas(scratch, Tq, Tk);
  const work = (o + (<usize>(max(Tq, Tk) * d) << 2) + 63) & ~63;
  for (let bh = first; bh < last; bh++) {
    const qo = <usize>(bh * Tq * d) << 2;
    const ko = <usize>(bh * Tk * d) << 2;
    headBackward(q + qo, d, k + ko, d, v + ko, d, out + qo, d, lse + (<usize>(bh * Tq) << 2), dout + qo, dq + qo, dk + ko, dv + ko, d, Tq, Tk, d, scale, causal, scratch, dS, o, work);
  }
}

/**
 * Packed layout: qkv [B, T, 3C] (q, k, v side by side, C = H d) -> out [B, T, C]
 * and lse [B, H, T], for the heads bh = b H + h in [first, last) (all of them:
 * 0, B H; a thread of a pool takes a range).
 */
export function attentionPackedForward(qkv: usize, out: usize, lse: usize, H: i32, T: i32, d: i32, scale: f32, causal: bool, first: i32, last: i32, scratch: usize): void {
  const C = H * d;
  const o = areas(scratch, T, T);
  const work = (o + (<usize>(T * d) << 2) + 63) & ~63;
  for (let bh = first; bh < last; bh++) {
    const b = bh / H;
    const h = bh % H;
    const q = qkv + (<usize>(b * T * 3 * C + h * d) << 2);
    const y = out + (<usize>(b * T * C + h * d) << 2);
    const k = q + (<usize>C << 2);
    headForward(q, 3 * C, k, 3 * C, k + (<usize>C << 2), 3 * C, y, C, lse + (<usize>(bh * T) << 2), T, T, d, scale, causal, scratch, o, work);
  }
}

/** Packed layout: dqkv [B, T, 3C] from qkv, out, lse and dout [B, T, C], for the heads in [first, last). */
export function attentionPackedBackward(qkv: usize, out: usize, lse: usize, dout: usize, dqkv: usize, H: i32, T: i32, d: i32, scale: f32, causal: bool, first: i32, last: i32, scratch: usize): void {
  const C = H * d;
  const dS = scratch + (<usize>(T * T) << 2);
  const o = areas(scratch, T, T);
  const work = (o + (<usize>(T * d) << 2) + 63) & ~63;
  for (let bh = first; bh < last; bh++) {
    const b = bh / H;
    const h = bh % H;
    const at = <usize>(b * T * 3 * C + h * d) << 2;
    const q = qkv + at;
    const k = q + (<usize>C << 2);
    const dq = dqkv + at;
    const dk = dq + (<usize>C << 2);
    const y = <usize>(b * T * C + h * d) << 2;
    headBackward(q, 3 * C, k, 3 * C, k + (<usize>C << 2), 3 * C, out + y, C, lse + (<usize>(bh * T) << 2), dout + y, dq, dk, dk + (<usize>C << 2), 3 * C, T, T, d, scale, causal, scratch, dS, o, work);
  }
}
