// WGSL shared by LayerNorm's and RMSNorm's shaders (src/ops/layer-norm.ts,
// rms-norm.ts): both take a row's 1 / √(mean of squares + eps), LayerNorm's
// of the deviations from the row's mean, RMSNorm's of the values themselves.
import { BUILTINS, ROW_SUM } from './program.js';

/**
 * WGSL: ROW_SUM, then rowRstd(base, mu, t), 1 / √(mean((x - mu)²) + eps) over
 * the row of C values at x[base] (mu = 0: RMSNorm's), as every thread's result.
 * For a shader that binds `x` and has params `C` and `eps`, run by workgroups
 * of 64 threads, a row each (t: the thread; it takes every 64th column).
 */
export const ROW_RSTD = `${ROW_SUM}
fn rowRstd(base: u32, mu: f32, t: u32) -> f32 {
  var s2 = 0.0;
  for (var c = t; c < u.C; c += 64u) { let d = x[base + c] - mu; s2 += d * d; }
  return inverseSqrt(rowSum(s2, t) / f32(u.C) + u.eps);
}`;

/**
 * WGSL: a shader's main for x [N, C] (params `N` and `C`) with a workgroup of
 * 64 threads per row, run over grid(N, 1): `body` sees `row`, `t` (the thread)
 * and `base`, the index of the row's first value.
 */
export function perRow(body: string): string {
  return `@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let row = wid.y * nwg.x + wid.x;
  let t = lid.x;
  if (row >= u.N) { return; }
  let base = row * u.C;
${body}
}`;
}

/**
 * WGSL: a backward shader's main for x [N, C] (params `N` and `C`), run over
 * grid(N + ⌈C / 64⌉, 1): workgroups 0 to N - 1 take a row each (`rowBody`
 * sees `row`, `t` and `base`, as perRow's), the next ones 64 columns each
 * (`columnBody` sees `c`, a column below C), to sum the weights' gradients down the rows.
 */
export function rowsThenColumns(rowBody: string, columnBody: string): string {
  return `@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let group = wid.y * nwg.x + wid.x;
  let t = lid.x;
  if (group < u.N) {
    let row = group;
    let base = row * u.C;
${rowBody}
    return;
  }
  let c = (group - u.N) * 64u + t;
  if (c >= u.C) { return; }
${columnBody}
}`;
}
