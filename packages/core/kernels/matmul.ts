// C = op(A) · op(B) for float32 matrices in tfjs-wasm's own memory.
//
// The classic packed-panel scheme (GotoBLAS, BLIS): B is copied once into
// panels of NR = 8 columns, each row-block of A into a panel of MR = 4 rows,
// so the micro-kernel reads both with unit stride whatever the transposes of
// the inputs were. The micro-kernel keeps a 4 x 8 block of C in eight SIMD
// registers over the whole K loop: per k, two loads of B, four broadcasts of
// A and eight multiply-adds (fused with relaxed SIMD where the engine has it).
//
// Element (i, k) of op(A) is at a + 4 * (i * aRow + k * aCol): the caller's
// strides encode the transpose, so A·Bᵀ and Aᵀ·B cost no transpose copy.

import { madd } from './math';

const MR: i32 = 4;
/** Columns per packed panel of B. */
export const NR: i32 = 8;

/** Panels of NR columns that N columns take. */
// @ts-ignore: decorator
@inline export function panelCount(N: i32): i32 {
  return (N + NR - 1) / NR;
}

/** Copies columns j0..j0+NR of op(B) (K rows) into a panel, zero-padded past n. */
function packB(b: usize, bRow: i32, bCol: i32, K: i32, j0: i32, n: i32, panel: usize): void {
  const full = j0 + NR <= n;
  if (full && bCol == 1) {
    // Rows of B are contiguous: two vector loads per k.
    for (let k = 0; k < K; k++) {
      const src = b + (<usize>(k * bRow + j0) << 2);
      v128.store(panel, v128.load(src));
      v128.store(panel, v128.load(src, 16), 16);
      panel += NR << 2;
    }
    return;
  }
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < NR; c++) {
      const j = j0 + c;
      store<f32>(panel + (c << 2), j < n ? load<f32>(b + (<usize>(k * bRow + j * bCol) << 2)) : 0);
    }
    panel += NR << 2;
  }
}

/** Copies rows i0..i0+MR of op(A) (K columns) into a panel, k-major, zero-padded past m. */
function packA(a: usize, aRow: i32, aCol: i32, K: i32, i0: i32, m: i32, panel: usize): void {
  if (i0 + MR <= m && aRow == 1) {
    // op(A) = Aᵀ: the four rows at one k are contiguous.
    for (let k = 0; k < K; k++) {
      v128.store(panel + (<usize>k << 4), v128.load(a + (<usize>(k * aCol + i0) << 2)));
    }
    return;
  }
  for (let r = 0; r < MR; r++) {
    const i = i0 + r;
    let dst = panel + (<usize>r << 2);
    if (i < m) {
      let src = a + (<usize>(i * aRow) << 2);
      const step = <usize>aCol << 2;
      for (let k = 0; k < K; k++) {
        store<f32>(dst, load<f32>(src));
        src += step;
        dst += MR << 2;
      }
    } else {
      for (let k = 0; k < K; k++) {
        store<f32>(dst, 0);
        dst += MR << 2;
      }
    }
  }
}

/** The 4 x 8 block of C at c (row stride ldc floats) from packed panels pa and pb. */
function kernel4x8(pa: usize, pb: usize, K: i32, c: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  const row = <usize>ldc << 2;
  v128.store(c, c00); v128.store(c, c01, 16); c += row;
  v128.store(c, c10); v128.store(c, c11, 16); c += row;
  v128.store(c, c20); v128.store(c, c21, 16); c += row;
  v128.store(c, c30); v128.store(c, c31, 16);
}

/** Bytes of scratch that matmul needs for these sizes. */
export function matmulScratch(M: i32, N: i32, K: i32): usize {
  const panels = panelCount(N);
  return (<usize>(panels * NR * K) << 2) + (<usize>(MR * K) << 2) + (MR * NR << 2);
}

/**
 * C[M, N] = op(A) · op(B), overwriting C (row-major, contiguous).
 * Strides are in floats; scratch holds matmulScratch(M, N, K) bytes, 16-aligned.
 */
export function matmul(
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, M: i32, N: i32, K: i32, scratch: usize,
): void {
  matmulPanels(a, aRow, aCol, b, bRow, bCol, c, M, N, K, 0, panelCount(N), scratch);
}

/**
 * The columns of C in panels p0..p1 (of NR = 8 columns each): what one thread
 * computes when a product is split between threads by columns.
 */
export function matmulPanels(
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, M: i32, N: i32, K: i32, p0: i32, p1: i32, scratch: usize,
): void {
  const packedB = scratch;
  const packedA = packedB + (<usize>((p1 - p0) * NR * K) << 2);
  const tile = packedA + (<usize>(MR * K) << 2);
  for (let p = p0; p < p1; p++) packB(b, bRow, bCol, K, p * NR, N, packedB + (<usize>((p - p0) * NR * K) << 2));
  for (let i0 = 0; i0 < M; i0 += MR) {
    packA(a, aRow, aCol, K, i0, M, packedA);
    const rows = min(MR, M - i0);
    for (let p = p0; p < p1; p++) {
      const j0 = p * NR;
      const cols = min(NR, N - j0);
      const pb = packedB + (<usize>((p - p0) * NR * K) << 2);
      const dst = c + (<usize>(i0 * N + j0) << 2);
      if (rows == MR && cols == NR) {
        kernel4x8(packedA, pb, K, dst, N);
      } else {
        // An edge block: compute the full 4 x 8 into the tile, copy what fits.
        kernel4x8(packedA, pb, K, tile, NR);
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < cols; q++) {
            store<f32>(dst + (<usize>(r * N + q) << 2), load<f32>(tile + (<usize>(r * NR + q) << 2)));
          }
        }
      }
    }
  }
}
