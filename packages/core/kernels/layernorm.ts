// LayerNorm over the last axis, forward and backward in one pass per row each,
// instead of tfjs's ~10 kernels forward and ~20 backward.
//
//   forward:  x̂ = (x - mean) · rstd, rstd = 1 / √(var + eps); y = x̂ · w + b
//   backward: g = dy · w; dx = rstd · (g - mean(g) - x̂ · mean(g · x̂))
//             dw = Σ_rows dy · x̂, db = Σ_rows dy
// mean and rstd go out per row, so the backward pass recomputes x̂ from x.

import { hsum } from './math';

/**
 * 1 / √(mean((x - mu)²) + eps) over the row of C floats at x: LayerNorm's
 * rstd (centred) and RMSNorm's (not centred: mu is not used). Inlined with a
 * constant `centred`, so RMSNorm's loop has no subtraction in it.
 */
@inline export function rowRstd(x: usize, C: i32, mu: f32, eps: f32, centred: bool): f32 {
  const whole = C & ~3;
  const mu4 = f32x4.splat(mu);
  let q = f32x4.splat(0);
  for (let c = 0; c < whole; c += 4) {
    let d = v128.load(x + (<usize>c << 2));
    if (centred) d = f32x4.sub(d, mu4);
    q = f32x4.add(q, f32x4.mul(d, d));
  }
  let sq = hsum(q);
  for (let c = whole; c < C; c++) {
    let d = load<f32>(x + (<usize>c << 2));
    if (centred) d -= mu;
    sq += d * d;
  }
  return <f32>1 / Mathf.sqrt(sq / <f32>C + eps);
}

/** y[N, C] = LayerNorm(x) · w (+ b when b != 0); mean[N] and rstd[N] for the backward pass. */
export function layerNorm(x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, N: i32, C: i32, eps: f32): void {
  const whole = C & ~3;
  const rowBytes = <usize>C << 2;
  for (let r = 0; r < N; r++) {
    // Two passes (mean, then the mean of squared deviations), as tf.moments.
    let s = f32x4.splat(0);
    for (let c = 0; c < whole; c += 4) s = f32x4.add(s, v128.load(x + (<usize>c << 2)));
    let sum = hsum(s);
    for (let c = whole; c < C; c++) sum += load<f32>(x + (<usize>c << 2));
    const mu = sum / <f32>C;
    const mu4 = f32x4.splat(mu);
    const rs = rowRstd(x, C, mu, eps, true);
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const rs4 = f32x4.splat(rs);
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      let v = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(x + at), mu4), rs4), v128.load(w + at));
      if (b) v = f32x4.add(v, v128.load(b + at));
      v128.store(y + at, v);
    }
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      let v = (load<f32>(x + at) - mu) * rs * load<f32>(w + at);
      if (b) v += load<f32>(b + at);
      store<f32>(y + at, v);
    }
    x += rowBytes;
    y += rowBytes;
  }
}

/** dx[N, C], dw[C] and db[C] (when db != 0) from dy, x, w and the forward pass's mean and rstd. */
export function layerNormGrad(x: usize, w: usize, mean: usize, rstd: usize, dy: usize, dx: usize, dw: usize, db: usize, N: i32, C: i32): void {
  const whole = C & ~3;
  const rowBytes = <usize>C << 2;
  memory.fill(dw, 0, rowBytes);
  if (db) memory.fill(db, 0, rowBytes);
  for (let r = 0; r < N; r++) {
    const mu = f32x4.splat(load<f32>(mean + (<usize>r << 2)));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const rs4 = f32x4.splat(rs);
    // Pass 1: mean(g) and mean(g x̂); dw and db accumulate on the way.
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + at), mu), rs4);
      const d = v128.load(dy + at);
      const g = f32x4.mul(d, v128.load(w + at));
      sg = f32x4.add(sg, g);
      sgx = f32x4.add(sgx, f32x4.mul(g, xh));
      v128.store(dw + at, f32x4.add(v128.load(dw + at), f32x4.mul(d, xh)));
      if (db) v128.store(db + at, f32x4.add(v128.load(db + at), d));
    }
    let sumG = hsum(sg);
    let sumGX = hsum(sgx);
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      const xh = (load<f32>(x + at) - f32x4.extract_lane(mu, 0)) * rs;
      const d = load<f32>(dy + at);
      const g = d * load<f32>(w + at);
      sumG += g;
      sumGX += g * xh;
      store<f32>(dw + at, load<f32>(dw + at) + d * xh);
      if (db) store<f32>(db + at, load<f32>(db + at) + d);
    }
    const mg = f32x4.splat(sumG / <f32>C);
    const mgx = f32x4.splat(sumGX / <f32>C);
    // Pass 2: dx.
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + at), mu), rs4);
      const g = f32x4.mul(v128.load(dy + at), v128.load(w + at));
      v128.store(dx + at, f32x4.mul(rs4, f32x4.sub(f32x4.sub(g, mg), f32x4.mul(xh, mgx))));
    }
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      const xh = (load<f32>(x + at) - f32x4.extract_lane(mu, 0)) * rs;
      const g = load<f32>(dy + at) * load<f32>(w + at);
      store<f32>(dx + at, rs * (g - f32x4.extract_lane(mg, 0) - xh * f32x4.extract_lane(mgx, 0)));
    }
    x += rowBytes;
    dy += rowBytes;
    dx += rowBytes;
  }
}
