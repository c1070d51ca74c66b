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

/** q: [dk]; keys, values: [T][dk]. With `causal`, only keys 0..query count; with a `window` (Mistral's sliding window), only the last `window` of them. */
export function tokenArithmetic(q: readonly number[], keys: readonly (readonly number[])[], values: readonly (readonly number[])[], { query, causal, window = null }: { query: number; causal: boolean; window?: number | null }): TokenArithmetic {
  const dk = q.length;
  const scores = keys.map((k) => k.reduce((s, kj, j) => s + kj * q[j], 0));
  const scale = Math.sqrt(dk);
  const scaled = scores.map((s, j) => ((causal && j > query) || (window !== null && j <= query - window) ? -Infinity : s / scale));
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

/**
 * The sentence a negative winning score needs: softmax compares scores, so the
 * largest wins whatever its sign (e^{-4.94} is small, the others' e^s smaller
 * still). Null when the winner's scaled score is not negative. `scores`:
 * the unscaled q·k, named too when given.
 */
export function negativeWinner(scaled: readonly number[], weights: readonly number[], tokens: readonly string[], scores?: readonly number[]): string | null {
  let best = 0;
  for (let j = 1; j < weights.length; j++) if (weights[j] > weights[best]) best = j;
  const s = scaled[best];
  if (!(s < 0) || !Number.isFinite(s)) return null;
  const others = scaled.filter((x, j) => j !== best && Number.isFinite(x));
  const next = others.length ? Math.max(...others) : -Infinity;
  const both = scores ? `q·k = ${fmt(scores[best])}, ${fmt(s)} after ÷ √d_k` : fmt(s);
  return `The winning score for “${tokens[best]}” is negative (${both}) and still wins: softmax only compares scores. ` +
    `Every other score is lower (the next is ${fmt(next)}), so e^${fmt(s)} is the largest of the e^s once they are divided by their sum.`;
}

/**
 * x·W + b over the columns [from, to) of W: one head's slice of a fused
 * projection (c_attn holds W_Q | W_K | W_V side by side, head after head).
 * x: [C]; W: [C][N] ([in, out], as @tx/core's Linear holds it); b: [N] or null.
 */
export function projectRow(x: readonly number[], W: readonly (readonly number[])[], b: readonly number[] | null, from = 0, to = W[0]?.length ?? 0): number[] {
  const out = new Array<number>(to - from).fill(0);
  for (let c = 0; c < x.length; c++) {
    const row = W[c];
    for (let j = from; j < to; j++) out[j - from] += x[c] * row[j];
  }
  if (b) for (let j = from; j < to; j++) out[j - from] += b[j];
  return out;
}

/** The largest |a_i - b_i|: how well a recomputed vector matches the model's own. */
export function maxDiff(a: readonly number[], b: readonly number[]): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}
