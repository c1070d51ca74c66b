// Vector exp, erf and tanh for the fused kernels, four floats at a time.
//
// Their constants are vectors in globals, set once when the module starts from
// a value the compiler cannot fold (one()): V8 rebuilds a v128.const inside a
// loop at every iteration (about four instructions each, on the shuffle port;
// exp's 15 constants made it 4x slower), while reading a global is one load.

/** 1, as the compiler cannot know it: memory.size() >>> 31 is 0 for any memory wasm32 allows. */
function one(): f32 {
  return <f32>(memory.size() >>> 31) + 1;
}

/** Four c's, for a global. */
export function vec(c: f32): v128 {
  return f32x4.splat(c * one());
}

/** Four integer c's, for a global. */
function ivec(c: i32): v128 {
  return i32x4.splat(c * <i32>one());
}

/** acc + x · y: one fused instruction with relaxed SIMD, else a multiply then an add. */
// @ts-ignore: decorator
@inline export function madd(x: v128, y: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
  return f32x4.add(acc, f32x4.mul(x, y));
}

/** The sum of a vector's four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export const ONE = vec(1);
export const HALF = vec(0.5);
export const TWO = vec(2);
const SIGN = ivec(0x80000000);

// exp: x = n ln2 + r with |r| <= ln2 / 2, e^x = 2^n e^r (Cephes' expf).
const EXP_HI = vec(88.3762626647949);
const EXP_LO = vec(-87.3365447504);
const LOG2E = vec(1.44269504);
// 1.5 · 2^23: adding it rounds a float to an integer, which then sits in the low mantissa bits.
const ROUNDER = vec(12582912.0);
const EXP_BIAS = ivec(0x4b400000 - 127);
// ln 2 split in two so that n ln2 is exact in the high part.
const LN2_HI = vec(0.693359375);
const LN2_LO = vec(-2.12194440e-4);
const P0 = vec(1.9875691500e-4);
const P1 = vec(1.3981999507e-3);
const P2 = vec(8.3334519073e-3);
const P3 = vec(4.1665795894e-2);
const P4 = vec(1.6666665459e-1);
const P5 = vec(5.0000001201e-1);

// erf: Abramowitz and Stegun 7.1.26.
const AS_P = vec(0.3275911);
const A1 = vec(0.254829592);
const A2 = vec(-0.284496736);
const A3 = vec(1.421413741);
const A4 = vec(-1.453152027);
const A5 = vec(1.061405429);

/**
 * e^x, relative error < 2e-7 on [-87, 88]; 0 below (as float32's e^x underflows, so a
 * masked -1e9 score weighs exactly 0), and clamped to e^88.4 above.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const above = f32x4.ge(x, EXP_LO);
  // pmin/pmax are one instruction each (min/max with NaN rules are several).
  x = f32x4.pmax(f32x4.pmin(x, EXP_HI), EXP_LO);
  const t = f32x4.add(f32x4.mul(x, LOG2E), ROUNDER);
  const n = f32x4.sub(t, ROUNDER);
  let r = f32x4.sub(x, f32x4.mul(n, LN2_HI));
  r = f32x4.sub(r, f32x4.mul(n, LN2_LO));
  let p = f32x4.add(f32x4.mul(P0, r), P1);
  p = f32x4.add(f32x4.mul(p, r), P2);
  p = f32x4.add(f32x4.mul(p, r), P3);
  p = f32x4.add(f32x4.mul(p, r), P4);
  p = f32x4.add(f32x4.mul(p, r), P5);
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), ONE);
  // 2^n: n + 127 in the exponent bits (n is t's bits minus ROUNDER's).
  return v128.and(f32x4.mul(p, i32x4.shl(i32x4.sub(t, EXP_BIAS), 23)), above);
}

/**
 * erf(x) given e = e^(-x²) (GELU computes e once for erf and for its gradient),
 * by Abramowitz and Stegun 7.1.26: absolute error < 1.5e-7.
 */
// @ts-ignore: decorator
@inline export function erf4(x: v128, e: v128): v128 {
  const t = f32x4.div(ONE, f32x4.add(ONE, f32x4.mul(f32x4.abs(x), AS_P)));
  let p = f32x4.add(f32x4.mul(A5, t), A4);
  p = f32x4.add(f32x4.mul(p, t), A3);
  p = f32x4.add(f32x4.mul(p, t), A2);
  p = f32x4.add(f32x4.mul(p, t), A1);
  const y = f32x4.sub(ONE, f32x4.mul(f32x4.mul(p, t), e));
  // erf is odd: put the sign of x on y.
  return v128.or(y, v128.and(x, SIGN));
}

/** tanh(x) = 1 - 2 / (e^(2x) + 1), exact to ~1e-7 and saturating cleanly at ±1. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const e = exp4(f32x4.add(x, x));
  return f32x4.sub(ONE, f32x4.div(TWO, f32x4.add(e, ONE)));
}

/**
 * ln(x) for x > 0 (Cephes' logf: x = m 2^e, m in [√½, √2), a polynomial in
 * m - 1): relative error < 1e-7; +∞ gives +∞. Written out because Mathf.log
 * brings a lookup table, that is a data segment, and this module may own no
 * memory of its own: it is instantiated on tfjs's heap and on a pool's arena.
 */
export function logf(x: f32): f32 {
  const bits = reinterpret<u32>(x);
  if (x <= 0 || (bits >>> 23) >= 0xff) return x <= 0 ? (x == 0 ? -Infinity : NaN) : x;
  let e = <f32>(<i32>(bits >>> 23) - 126);
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000); // [0.5, 1)
  if (m < <f32>0.70710678) {
    e -= 1;
    m = m + m - 1;
  } else {
    m = m - 1;
  }
  const z = m * m;
  let y: f32 = <f32>7.0376836292e-2;
  y = y * m - <f32>1.1514610310e-1;
  y = y * m + <f32>1.1676998740e-1;
  y = y * m - <f32>1.2420140846e-1;
  y = y * m + <f32>1.4249322787e-1;
  y = y * m - <f32>1.6668057665e-1;
  y = y * m + <f32>2.0000714765e-1;
  y = y * m - <f32>2.4999993993e-1;
  y = y * m + <f32>3.3333331174e-1;
  y = y * m * z;
  y += <f32>-2.12194440e-4 * e;
  y += <f32>-0.5 * z;
  return m + y + <f32>0.693359375 * e;
}
