// softmax(q kᵀ · scale) v for each (batch, head), forward and backward, one
// head at a time: its scores live in scratch, never as a [B, h, Tq, Tk]
// tensor, and every product goes through matmul.ts's packed micro-kernel
// (transposes as strides). The causal mask is where each row's softmax stops.
// The forward pass keeps each row's log-sum-exp; the backward pass recomputes
// the weights from it.
//
// Layout: q [BH, Tq, d], k and v [BH, Tk, d]. With `causal`, query i sees
// keys 0..i + (Tk - Tq) (its position after a cache).
//
//   forward:  P = softmax(scale · Q Kᵀ);  O = P V;  lse_i = log Σ_t e^(s_it)
//   backward: dV = Pᵀ dO;  dP = dO Vᵀ;  dS = P ∘ (dP - rowsum(dO ∘ O)) · scale
//             dQ = dS K;  dK = dSᵀ Q
import { exp4, hsum } from './math';
import { matmul as product, matmulScratch } from './matmul';

/** Row i's visible keys: all Tk, or with `causal` those up to its position. */
// @ts-ignore: decorator
@inline function visible(i: i32, Tq: i32, Tk: i32, causal: bool): i32 {
  return causal ? max(0, min(Tk, i + Tk - Tq + 1)) : Tk;
}

/** Bytes of scratch that attentionForward and attentionBackward need. */
export function attentionScratch(Tq: i32, Tk: i32, d: i32): usize {
  const big = max(matmulScratch(Tq, Tk, d), max(matmulScratch(Tq, d, Tk), matmulScratch(Tk, d, Tq)));
  return (<usize>(2 * Tq * Tk) << 2) + big + 64;
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
  return shift + Mathf.log(sum);
}

/** out [BH, Tq, d] and lse [BH, Tq]; scratch holds attentionScratch(Tq, Tk, d) bytes. */
export function attentionForward(q: usize, k: usize, v: usize, out: usize, lse: usize, BH: i32, Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, scratch: usize): void {
  const P = scratch;
  const work = P + (<usize>(2 * Tq * Tk) << 2);
  for (let bh = 0; bh < BH; bh++) {
    const qb = q + (<usize>(bh * Tq * d) << 2);
    const kb = k + (<usize>(bh * Tk * d) << 2);
    const vb = v + (<usize>(bh * Tk * d) << 2);
    product(qb, d, 1, kb, 1, d, P, Tq, Tk, d, work); // Q Kᵀ
    for (let i = 0; i < Tq; i++) {
      const n = visible(i, Tq, Tk, causal);
      const row = P + (<usize>(i * Tk) << 2);
      const at = lse + (<usize>(bh * Tq + i) << 2);
      if (n == 0) {
        memory.fill(row, 0, <usize>Tk << 2);
        store<f32>(at, -Infinity);
      } else {
        store<f32>(at, softmaxRow(row, n, Tk, scale, false, 0));
      }
    }
    product(P, Tk, 1, vb, d, 1, out + (<usize>(bh * Tq * d) << 2), Tq, d, Tk, work); // P V
  }
}

/** dq [BH, Tq, d], dk and dv [BH, Tk, d] from the forward's inputs, out, lse and dout. */
export function attentionBackward(
  q: usize, k: usize, v: usize, out: usize, lse: usize, dout: usize,
  dq: usize, dk: usize, dv: usize, BH: i32, Tq: i32, Tk: i32, d: i32, scale: f32, causal: bool, scratch: usize,
): void {
  const P = scratch;
  const dS = P + (<usize>(Tq * Tk) << 2);
  const work = dS + (<usize>(Tq * Tk) << 2);
  for (let bh = 0; bh < BH; bh++) {
    const qo = <usize>(bh * Tq * d) << 2;
    const ko = <usize>(bh * Tk * d) << 2;
    product(q + qo, d, 1, k + ko, 1, d, P, Tq, Tk, d, work); // Q Kᵀ, then the weights from lse
    for (let i = 0; i < Tq; i++) {
      const n = visible(i, Tq, Tk, causal);
      const row = P + (<usize>(i * Tk) << 2);
      if (n == 0) memory.fill(row, 0, <usize>Tk << 2);
      else softmaxRow(row, n, Tk, scale, true, load<f32>(lse + (<usize>(bh * Tq + i) << 2)));
    }
    product(P, 1, Tk, dout + qo, d, 1, dv + ko, Tk, d, Tq, work); // dV = Pᵀ dO
    product(dout + qo, d, 1, v + ko, 1, d, dS, Tq, Tk, d, work); // dP = dO Vᵀ
    const sv = f32x4.splat(scale);
    for (let i = 0; i < Tq; i++) {
      // dS = P ∘ (dP - dO·O) · scale, in place over dP's row
      const o = out + qo + (<usize>(i * d) << 2);
      const g = dout + qo + (<usize>(i * d) << 2);
      let D: f32 = 0;
      for (let c = 0; c < d; c++) D += load<f32>(o + (<usize>c << 2)) * load<f32>(g + (<usize>c << 2));
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
    product(dS, Tk, 1, k + ko, d, 1, dq + qo, Tq, d, Tk, work); // dQ = dS K
    product(dS, 1, Tk, q + qo, d, 1, dk + ko, Tk, d, Tq, work); // dK = dSᵀ Q
  }
}
