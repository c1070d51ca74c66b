// Softmax cross-entropy over rows of logits, forward and backward one pass
// each, without the [N, V] one-hot (or smoothed) target tensor: at GPT-2's
// vocabulary and 1,024 tokens that tensor alone is 200 MB.
//
// With label smoothing eps the target is (1 - eps) one-hot + eps / V, so
//   loss_n = lse_n - (1 - eps) x_n[t] - (eps / V) Σ_v x_n[v]
//   dx_n   = (softmax(x_n) - q_n) · dy / count
// over the rows whose target is not `ignore` (count of them, at least 1).
import { exp4, hsum, logf } from './math';

// @ts-ignore: decorator
@inline function kept(targets: usize, n: i32, hasIgnore: bool, ignore: i32): bool {
  return !hasIgnore || load<i32>(targets + (<usize>n << 2)) != ignore;
}

/** The mean loss at out[0]; each row's log-sum-exp in lse [N] (for the backward pass). */
export function crossEntropy(x: usize, targets: usize, N: i32, V: i32, hasIgnore: bool, ignore: i32, eps: f32, lse: usize, out: usize): void {
  const whole = V & ~3;
  let total: f64 = 0;
  let count = 0;
  for (let n = 0; n < N; n++) {
    const row = x + (<usize>(n * V) << 2);
    if (!kept(targets, n, hasIgnore, ignore)) {
      store<f32>(lse + (<usize>n << 2), 0);
      continue;
    }
    let m: f32 = -Infinity;
    let sumX: f32 = 0;
    for (let v = 0; v < V; v++) {
      const xv = load<f32>(row + (<usize>v << 2));
      m = Mathf.max(m, xv);
      sumX += xv;
    }
    const mv = f32x4.splat(m);
    let s = f32x4.splat(0);
    for (let v = 0; v < whole; v += 4) s = f32x4.add(s, exp4(f32x4.sub(v128.load(row + (<usize>v << 2)), mv)));
    let sum = hsum(s);
    for (let v = whole; v < V; v++) sum += f32x4.extract_lane(exp4(f32x4.splat(load<f32>(row + (<usize>v << 2)) - m)), 0);
    const l = m + logf(sum);
    store<f32>(lse + (<usize>n << 2), l);
    const t = load<i32>(targets + (<usize>n << 2));
    total += <f64>(l - (1 - eps) * load<f32>(row + (<usize>t << 2)) - (eps / <f32>V) * sumX);
    count++;
  }
  store<f32>(out, <f32>(total / <f64>max(count, 1)));
}

/** dx [N, V] from the logits, the forward's lse, and the loss's upstream gradient (a scalar at dy). */
export function crossEntropyGrad(x: usize, targets: usize, lse: usize, dy: usize, N: i32, V: i32, hasIgnore: bool, ignore: i32, eps: f32, dx: usize): void {
  let count = 0;
  for (let n = 0; n < N; n++) if (kept(targets, n, hasIgnore, ignore)) count++;
  const w = load<f32>(dy) / <f32>max(count, 1);
  const wv = f32x4.splat(w);
  const floor = f32x4.splat(eps / <f32>V);
  const whole = V & ~3;
  for (let n = 0; n < N; n++) {
    const row = x + (<usize>(n * V) << 2);
    const out = dx + (<usize>(n * V) << 2);
    if (!kept(targets, n, hasIgnore, ignore)) {
      memory.fill(out, 0, <usize>V << 2);
      continue;
    }
    const l = f32x4.splat(load<f32>(lse + (<usize>n << 2)));
    for (let v = 0; v < whole; v += 4) {
      const at = <usize>v << 2;
      v128.store(out + at, f32x4.mul(f32x4.sub(exp4(f32x4.sub(v128.load(row + at), l)), floor), wv));
    }
    for (let v = whole; v < V; v++) {
      const at = <usize>v << 2;
      const p = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(row + at) - f32x4.extract_lane(l, 0))), 0);
      store<f32>(out + at, (p - eps / <f32>V) * w);
    }
    const at = <usize>load<i32>(targets + (<usize>n << 2)) << 2;
    store<f32>(out + at, load<f32>(out + at) - (1 - eps) * w);
  }
}
