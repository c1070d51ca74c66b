// Attention matrices as small images. At 1,024 tokens a head is a million
// weights: the matrix view and the grid of every layer x head draw them
// pooled to the pixels they have. Each pixel is the largest weight of its
// block, not the mean: a row's weights sum to 1, so a mean over 16 x 16
// cells would fade a sharp diagonal to nothing, while the max keeps it.
// Weights are never negative, so cells past the edge count as 0.

/** Rows of a matrix: plain arrays (JSON) or views into a tensor's data. */
export type Matrix = readonly ArrayLike<number>[];

/** Every layer x head pooled by `factor`: [layer][head] -> rows. */
export interface Thumbnails {
  factor: number;
  cells: Float32Array[][][];
}

/** The pooling factor that brings n cells within `size` pixels (1: no pooling). */
export function poolFactor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / Math.max(1, size)));
}

/** Max-pool `m` by `factor` x `factor` blocks (the last blocks may be partial): ceil(R/f) rows of ceil(C/f). */
export function downsampleMax(m: Matrix, factor: number): Float32Array[] {
  const R = m.length, C = m[0]?.length ?? 0;
  if (factor <= 1) return m.map((row) => Float32Array.from(row as ArrayLike<number>));
  const rows = Math.ceil(R / factor), cols = Math.ceil(C / factor);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < R; r++) {
    const row = m[r], out = Math.floor(r / factor) * cols;
    for (let c = 0; c < C; c++) {
      const o = out + Math.floor(c / factor);
      if (row[c] > data[o]) data[o] = row[c];
    }
  }
  return splitRows(data, rows, cols);
}

/** A flat row-major buffer as row views (no copy). */
export function splitRows(data: Float32Array, rows: number, cols: number, offset = 0): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => data.subarray(offset + r * cols, offset + (r + 1) * cols));
}

/** Thumbnails of attention held whole in the page ([layer][head][query][key]), pooled to at most `size` cells a side. */
export function thumbnailsOf(attention: readonly (readonly Matrix[])[], size: number): Thumbnails {
  const first = attention.find((l) => l.length > 0)?.[0] ?? [];
  const factor = poolFactor(Math.max(first.length, first[0]?.length ?? 0), size);
  return { factor, cells: attention.map((layer) => layer.map((head) => downsampleMax(head, factor))) };
}
