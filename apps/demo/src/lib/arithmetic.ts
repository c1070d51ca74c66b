// One token's attention, step by step, with the model's real Q, K and V:
//
//   scores_j  = q · k_j                 (QKᵀ, one row)
//   scaled_j  = scores_j / √d_k
//   weights   = softmax(scaled) (masked: keys after the query get -∞ in a causal model)
//   output    = Σ_j weights_j v_j        (the weighted sum of V)

export interface TokenArithmetic {
  dk: number;
  scores: number[];
  scaled: number[];
  weights: number[];
  output: number[];
}

export function softmaxRow(row: readonly number[]): number[] {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  const exps = row.map((x) => (x === -Infinity ? 0 : Math.exp(x - max)));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** q: [dk]; keys, values: [T][dk]. With `causal`, only keys 0..query count. */
export function tokenArithmetic(q: readonly number[], keys: readonly (readonly number[])[], values: readonly (readonly number[])[], { query, causal }: { query: number; causal: boolean }): TokenArithmetic {
  const dk = q.length;
  const scores = keys.map((k) => k.reduce((s, kj, j) => s + kj * q[j], 0));
  const scale = Math.sqrt(dk);
  const scaled = scores.map((s, j) => (causal && j > query ? -Infinity : s / scale));
  const weights = softmaxRow(scaled);
  const dv = values[0]?.length ?? 0;
  const output = new Array<number>(dv).fill(0);
  weights.forEach((w, j) => {
    if (w === 0) return;
    for (let d = 0; d < dv; d++) output[d] += w * values[j][d];
  });
  return { dk, scores, scaled, weights, output };
}

/** Short fixed-width numbers for tables. */
export function fmt(x: number, digits = 2): string {
  if (x === -Infinity) return '−∞';
  if (!Number.isFinite(x)) return String(x);
  return (x < 0 ? '−' : '') + Math.abs(x).toFixed(digits);
}
