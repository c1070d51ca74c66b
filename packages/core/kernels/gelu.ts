// GELU forward and backward in one pass each (nanoGPT's exact GELU, and
// GPT-2's tanh approximation), instead of tfjs's 6 to 12 element-wise kernels.
//
//   exact: y = x Φ(x) = 0.5 x (1 + erf(x / √2)),   y' = Φ(x) + x φ(x)
//   tanh:  y = 0.5 x (1 + tanh(u)), u = √(2/π) (x + 0.044715 x³),
//          y' = 0.5 (1 + tanh u) + 0.5 x (1 - tanh² u) √(2/π) (1 + 3 · 0.044715 x²)
import { HALF, ONE, erf4, exp4, tanh4, vec } from './math';

// Vectors in globals: see math.ts for why.
const SQRT1_2 = vec(0.70710678118654752);
const INV_SQRT_2PI = vec(0.39894228040143268);
const SQRT_2_OVER_PI = vec(0.79788456080286536);
const C = vec(0.044715);
const C3 = vec(3 * 0.044715);

// @ts-ignore: decorator
@inline function forward4(x: v128, approximate: bool): v128 {
  const half = f32x4.mul(x, HALF);
  if (approximate) {
    const u = f32x4.mul(SQRT_2_OVER_PI, f32x4.add(x, f32x4.mul(C, f32x4.mul(x, f32x4.mul(x, x)))));
    return f32x4.add(half, f32x4.mul(half, tanh4(u)));
  }
  const z = f32x4.mul(x, SQRT1_2);
  const e = exp4(f32x4.neg(f32x4.mul(z, z)));
  return f32x4.add(half, f32x4.mul(half, erf4(z, e)));
}

// @ts-ignore: decorator
@inline function backward4(x: v128, dy: v128, approximate: bool): v128 {
  if (approximate) {
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(SQRT_2_OVER_PI, f32x4.add(x, f32x4.mul(C, f32x4.mul(x, x2))));
    const t = tanh4(u);
    const du = f32x4.mul(SQRT_2_OVER_PI, f32x4.add(ONE, f32x4.mul(C3, x2)));
    const sech2 = f32x4.sub(ONE, f32x4.mul(t, t));
    const g = f32x4.add(f32x4.mul(HALF, f32x4.add(ONE, t)), f32x4.mul(f32x4.mul(f32x4.mul(HALF, x), sech2), du));
    return f32x4.mul(dy, g);
  }
  const z = f32x4.mul(x, SQRT1_2);
  const e = exp4(f32x4.neg(f32x4.mul(z, z))); // e^(-x²/2) = √(2π) φ(x)
  const cdf = f32x4.mul(HALF, f32x4.add(ONE, erf4(z, e)));
  const pdf = f32x4.mul(e, INV_SQRT_2PI);
  return f32x4.mul(dy, f32x4.add(cdf, f32x4.mul(x, pdf)));
}

/** y[i] = GELU(x[i]) for first <= i < last (tanh approximation when approximate); first is a multiple of 4. */
export function gelu(x: usize, y: usize, approximate: bool, first: i32, last: i32): void {
  const whole = first + ((last - first) & ~3);
  for (let i = first; i < whole; i += 4) {
    const at = <usize>i << 2;
    v128.store(y + at, forward4(v128.load(x + at), approximate));
  }
  for (let i = whole; i < last; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, f32x4.extract_lane(forward4(f32x4.splat(load<f32>(x + at)), approximate), 0));
  }
}

/** dx[i] = dy[i] · GELU'(x[i]) for first <= i < last. */
export function geluGrad(x: usize, dy: usize, dx: usize, approximate: bool, first: i32, last: i32): void {
  const whole = first + ((last - first) & ~3);
  for (let i = first; i < whole; i += 4) {
    const at = <usize>i << 2;
    v128.store(dx + at, backward4(v128.load(x + at), v128.load(dy + at), approximate));
  }
  for (let i = whole; i < last; i++) {
    const at = <usize>i << 2;
    const g = backward4(f32x4.splat(load<f32>(x + at)), f32x4.splat(load<f32>(dy + at)), approximate);
    store<f32>(dx + at, f32x4.extract_lane(g, 0));
  }
}
