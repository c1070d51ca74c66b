// Positional encodings as numbers to draw. @tx/positional owns the tensors;
// these are the same formulas in plain arrays (tested against each other
// when that package is present), small enough for heatmaps and wave plots.

/** PE[pos][2i] = sin(pos / 10000^(2i/d)), PE[pos][2i+1] = cos(...) ("Attention Is All You Need" §3.5). */
export function sinusoidalMatrix(positions: number, dim: number, base = 10000): number[][] {
  const out: number[][] = [];
  for (let pos = 0; pos < positions; pos++) {
    const row = new Array<number>(dim);
    for (let i = 0; i < dim; i += 2) {
      const angle = pos / base ** (i / dim);
      row[i] = Math.sin(angle);
      if (i + 1 < dim) row[i + 1] = Math.cos(angle);
    }
    out.push(row);
  }
  return out;
}

/** Rotary (RoFormer): pair (2i, 2i+1) of a vector at position pos turns by pos·θ_i, θ_i = base^(-2i/d). */
export function rotaryAngles(positions: number, dim: number, base = 10000): number[][] {
  const out: number[][] = [];
  for (let pos = 0; pos < positions; pos++) {
    const row: number[] = [];
    for (let i = 0; i < dim / 2; i++) row.push(pos * base ** ((-2 * i) / dim));
    out.push(row);
  }
  return out;
}

/** Rotate a vector as rotary does at a position. */
export function rotate(x: readonly number[], pos: number, base = 10000): number[] {
  const d = x.length;
  const out = x.slice();
  for (let i = 0; i + 1 < d; i += 2) {
    const theta = pos * base ** (-i / d);
    const c = Math.cos(theta), s = Math.sin(theta);
    out[i] = x[i] * c - x[i + 1] * s;
    out[i + 1] = x[i] * s + x[i + 1] * c;
  }
  return out;
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Largest absolute value, for symmetric colour scales. */
export function absMax(m: readonly (readonly number[])[]): number {
  let max = 0;
  for (const row of m) for (const x of row) if (Math.abs(x) > max) max = Math.abs(x);
  return max || 1;
}
