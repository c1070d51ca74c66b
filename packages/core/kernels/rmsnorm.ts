// RMSNorm (Zhang & Sennrich 2019) over the last axis, forward and backward in
// one pass per row each: LayerNorm without centring or bias, as Llama uses.
//
//   forward:  x̂ = x · rstd, rstd = 1 / √(mean(x²) + eps);  y = x̂ · w
//   backward: g = dy · w;  dx = rstd · (g - x̂ · mean(g · x̂));  dw = Σ_rows dy · x̂
// rstd goes out per row, so the backward pass recomputes x̂ from x.
import { rowRstd } from './layernorm';
import { hsum } from './math';

/** y[N, C] = RMSNorm(x) · w; rstd[N] for the backward pass. */
export function rmsNorm(x: usize, w: usize, y: usize, rstd: usize, N: i32, C: i32, eps: f32): void {
  const whole = C & ~3;
  const rowBytes = <usize>C << 2;
  for (let r = 0; r < N; r++) {
    const rs = rowRstd(x, C, 0, eps, false);
    store<f32>(rstd + (<usize>r << 2), rs);
    const rs4 = f32x4.splat(rs);
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      v128.store(y + at, f32x4.mul(f32x4.mul(v128.load(x + at), rs4), v128.load(w + at)));
    }
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      store<f32>(y + at, load<f32>(x + at) * rs * load<f32>(w + at));
    }
    x += rowBytes;
    y += rowBytes;
  }
}

/** dx[N, C] and dw[C] from dy, x, w and the forward pass's rstd. */
export function rmsNormGrad(x: usize, w: usize, rstd: usize, dy: usize, dx: usize, dw: usize, N: i32, C: i32): void {
  const whole = C & ~3;
  const rowBytes = <usize>C << 2;
  memory.fill(dw, 0, rowBytes);
  for (let r = 0; r < N; r++) {
    const rs = load<f32>(rstd + (<usize>r << 2));
    const rs4 = f32x4.splat(rs);
    // Pass 1: mean(g x̂); dw accumulates on the way.
    let sgx = f32x4.splat(0);
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      const xh = f32x4.mul(v128.load(x + at), rs4);
      const d = v128.load(dy + at);
      sgx = f32x4.add(sgx, f32x4.mul(f32x4.mul(d, v128.load(w + at)), xh));
      v128.store(dw + at, f32x4.add(v128.load(dw + at), f32x4.mul(d, xh)));
    }
    let sumGX = hsum(sgx);
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      const xh = load<f32>(x + at) * rs;
      const d = load<f32>(dy + at);
      sumGX += d * load<f32>(w + at) * xh;
      store<f32>(dw + at, load<f32>(dw + at) + d * xh);
    }
    const mgx = sumGX / <f32>C;
    const mgx4 = f32x4.splat(mgx);
    // Pass 2: dx.
    for (let c = 0; c < whole; c += 4) {
      const at = <usize>c << 2;
      const xh = f32x4.mul(v128.load(x + at), rs4);
      const g = f32x4.mul(v128.load(dy + at), v128.load(w + at));
      v128.store(dx + at, f32x4.mul(rs4, f32x4.sub(g, f32x4.mul(xh, mgx4))));
    }
    for (let c = whole; c < C; c++) {
      const at = <usize>c << 2;
      const g = load<f32>(dy + at) * load<f32>(w + at);
      store<f32>(dx + at, rs * (g - load<f32>(x + at) * rs * mgx));
    }
    x += rowBytes;
    dy += rowBytes;
    dx += rowBytes;
  }
}
