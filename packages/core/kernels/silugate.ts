// Llama's SiLU gate forward and backward in one pass each, instead of tfjs's
// sigmoid, two multiplies and about ten backward kernels (casts included):
//
//   y = silu(g) · u = g σ(g) u
//   dg = dy · u · σ(g) (1 + g (1 - σ(g))),   du = dy · g σ(g)
import { ONE, exp4 } from './math';

// @ts-ignore: decorator
@inline function sigmoid4(g: v128): v128 {
  return f32x4.div(ONE, f32x4.add(ONE, exp4(f32x4.neg(g))));
}

/** y[i] = silu(gate[i]) · up[i] for first <= i < last; first is a multiple of 4. */
export function siluGate(gate: usize, up: usize, y: usize, first: i32, last: i32): void {
  const whole = first + ((last - first) & ~3);
  for (let i = first; i < whole; i += 4) {
    const at = <usize>i << 2;
    const g = v128.load(gate + at);
    v128.store(y + at, f32x4.mul(f32x4.mul(g, sigmoid4(g)), v128.load(up + at)));
  }
  for (let i = whole; i < last; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(gate + at);
    store<f32>(y + at, g * f32x4.extract_lane(sigmoid4(f32x4.splat(g)), 0) * load<f32>(up + at));
  }
}

// @ts-ignore: decorator
@inline function grads4(g: v128, u: v128, dy: v128, dgate: usize, dup: usize, at: usize): void {
  const s = sigmoid4(g);
  const gs = f32x4.mul(g, s);
  v128.store(dup + at, f32x4.mul(dy, gs));
  // σ(g) (1 + g (1 - σ(g))) = σ(g) + gσ(g) - gσ(g)σ(g)
  v128.store(dgate + at, f32x4.mul(f32x4.mul(dy, u), f32x4.add(s, f32x4.sub(gs, f32x4.mul(gs, s)))));
}

/** dgate[i] and dup[i] of y = silu(gate) · up, for first <= i < last. */
export function siluGateGrad(gate: usize, up: usize, dy: usize, dgate: usize, dup: usize, first: i32, last: i32): void {
  const whole = first + ((last - first) & ~3);
  for (let i = first; i < whole; i += 4) {
    const at = <usize>i << 2;
    grads4(v128.load(gate + at), v128.load(up + at), v128.load(dy + at), dgate, dup, at);
  }
  for (let i = whole; i < last; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(gate + at);
    const s = f32x4.extract_lane(sigmoid4(f32x4.splat(g)), 0);
    const d = load<f32>(dy + at);
    store<f32>(dup + at, d * g * s);
    store<f32>(dgate + at, d * load<f32>(up + at) * (s + g * s - g * s * s));
  }
}
