// Float64 reference implementations in plain JavaScript, for finite
// differences: the same math as the library, with no tfjs and no float32.
export type Nd = number[] | Nd[];

/** Attention for one head: q [Tq][d], k [Tk][d], v [Tk][dv]; allowed [Tq][Tk] or null. */
export function attention64(q: number[][], k: number[][], v: number[][], allowed: boolean[][] | null = null): number[][] {
  const scale = 1 / Math.sqrt(q[0].length);
  return q.map((qi, i) => {
    const s = k.map((kj, j) => (allowed && !allowed[i][j] ? -Infinity : scale * qi.reduce((a, x, c) => a + x * kj[c], 0)));
    const m = Math.max(...s);
    if (m === -Infinity) return v[0].map(() => 0);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    return v[0].map((_, c) => e.reduce((a, w, j) => a + (w / z) * v[j][c], 0));
  });
}

/** x [T][in] W [out][in] (PyTorch layout) + b -> [T][out] */
export function linear64(x: number[][], w: number[][], b: number[] | null): number[][] {
  return x.map((xi) => w.map((wo, o) => wo.reduce((a, wv, c) => a + wv * xi[c], b ? b[o] : 0)));
}

/** nn.MultiheadAttention for one batch element: x [Tq][C], ctx [Tk][C]; inW [3C][C]. */
export function mha64(x: number[][], ctx: number[][], h: number, inW: number[][], inB: number[] | null, outW: number[][], outB: number[] | null, allowed: boolean[][] | null): number[][] {
  const C = x[0].length;
  const d = C / h;
  const q = linear64(x, inW.slice(0, C), inB && inB.slice(0, C));
  const k = linear64(ctx, inW.slice(C, 2 * C), inB && inB.slice(C, 2 * C));
  const v = linear64(ctx, inW.slice(2 * C), inB && inB.slice(2 * C));
  const cols = (m: number[][], j: number) => m.map((r) => r.slice(j * d, (j + 1) * d));
  const heads = Array.from({ length: h }, (_, j) => attention64(cols(q, j), cols(k, j), cols(v, j), allowed));
  const merged = x.map((_, t) => heads.flatMap((o) => o[t]));
  return linear64(merged, outW, outB);
}

/** Central difference of f at element `index` of a flat copy of `values`. */
export function centralDifference(f: (values: number[]) => number, values: number[], index: number, h = 1e-6): number {
  const plus = [...values];
  const minus = [...values];
  plus[index] += h;
  minus[index] -= h;
  return (f(plus) - f(minus)) / (2 * h);
}

export function reshape(flat: number[], shape: number[]): Nd {
  if (shape.length === 1) return flat.slice(0, shape[0]);
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => reshape(flat.slice(i * size, (i + 1) * size), shape.slice(1)));
}
