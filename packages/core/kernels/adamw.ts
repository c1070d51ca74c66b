// AdamW for one parameter in one pass, with the gradient-clipping scale
// applied on the way in: the same operations, in the same order and float32
// precision, as the tfjs composite in @tx/train, so both agree exactly. The
// clipping norm comes from sumOfSquares over every gradient first (its scale
// depends on all of them, so it cannot be folded into the update's sweep).
//
//   g = grad · scale;  m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g²
//   p' = p · decay - (m' / (√(v' / c2) + eps)) · (lr / c1)

/** Writes p', m', v' for n elements; the gradient is multiplied by `scale` (the clipping factor, else 1). */
export function adamW(
  p: usize, m: usize, v: usize, g: usize,
  pOut: usize, mOut: usize, vOut: usize, n: i32, scale: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  correction2: f32, eps: f32, decay: f32, stepSize: f32,
): void {
  const s = f32x4.splat(scale);
  const b1 = f32x4.splat(beta1), a1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), a2 = f32x4.splat(oneMinusBeta2);
  const c2 = f32x4.splat(correction2), e = f32x4.splat(eps);
  const d = f32x4.splat(decay), lr = f32x4.splat(stepSize);
  const whole = n & ~3;
  for (let i = 0; i < n; i += i < whole ? 4 : 1) {
    const at = <usize>i << 2;
    const vector = i < whole;
    // The last 1-3 elements go one at a time through the same vector arithmetic.
    const gs = f32x4.mul(vector ? v128.load(g + at) : f32x4.splat(load<f32>(g + at)), s);
    const m2 = f32x4.add(f32x4.mul(vector ? v128.load(m + at) : f32x4.splat(load<f32>(m + at)), b1), f32x4.mul(gs, a1));
    const v2 = f32x4.add(f32x4.mul(vector ? v128.load(v + at) : f32x4.splat(load<f32>(v + at)), b2), f32x4.mul(f32x4.mul(gs, gs), a2));
    const denom = f32x4.add(f32x4.sqrt(f32x4.div(v2, c2)), e);
    const p2 = f32x4.sub(f32x4.mul(vector ? v128.load(p + at) : f32x4.splat(load<f32>(p + at)), d), f32x4.mul(f32x4.div(m2, denom), lr));
    if (vector) {
      v128.store(pOut + at, p2);
      v128.store(mOut + at, m2);
      v128.store(vOut + at, v2);
    } else {
      store<f32>(pOut + at, f32x4.extract_lane(p2, 0));
      store<f32>(mOut + at, f32x4.extract_lane(m2, 0));
      store<f32>(vOut + at, f32x4.extract_lane(v2, 0));
    }
  }
}

/** Σ x² over n floats (four lanes, then the tail), written at out. */
export function sumOfSquares(x: usize, n: i32, out: usize): void {
  const whole = n & ~3;
  let acc = f32x4.splat(0);
  for (let i = 0; i < whole; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (let i = whole; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  store<f32>(out, sum);
}
