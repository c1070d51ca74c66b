// C = op(A) · op(B) for float32 matrices in tfjs-wasm's own memory.
//
// The classic packed-panel scheme (GotoBLAS, BLIS): B is copied once into
// panels of NR = 8 columns, each row-block of A into a panel of MR rows, so
// the micro-kernel reads both with unit stride whatever the transposes of the
// inputs were. The micro-kernel keeps an MR x 8 block of C in SIMD registers
// over the whole K loop: per k, two loads of B, MR broadcasts of A and 2 MR
// multiply-adds.
//
// MR is 6 with relaxed SIMD's fused multiply-add: each accumulator's FMA
// waits 4-5 cycles for its previous one, so 8 accumulators (4 x 8) cannot
// keep both FMA ports busy; 12 can, and 12 + 2 + 1 is all the SIMD registers
// V8 gives (15; a 4 x 12 block spills). Alone, 6 x 8 ran 1.4-1.6x faster than
// 4 x 8 here. With plain SIMD128 each multiply-add needs a temporary register,
// 6 x 8 spills and runs slower, so MR stays 4.
//
// Element (i, k) of op(A) is at a + 4 * (i * aRow + k * aCol): the caller's
// strides encode the transpose, so A·Bᵀ and Aᵀ·B cost no transpose copy.

import { madd } from './math';

/** Rows per packed panel of A (above). */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
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
    // op(A) = Aᵀ: the MR rows at one k are contiguous (four floats, then two when MR is 6).
    for (let k = 0; k < K; k++) {
      const src = a + (<usize>(k * aCol + i0) << 2);
      const dst = panel + <usize>(k * MR) * 4;
      v128.store(dst, v128.load(src));
      if (MR == 6) store<u64>(dst, load<u64>(src, 16), 16);
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

/**
 * The MR x 8 block of C at c (row stride ldc floats) from packed panels pa and
 * pb. MR is a compile-time constant: the rows 4 and 5 are compiled in or out.
 */
function kernel(pa: usize, pb: usize, K: i32, c: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
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
    if (MR == 6) {
      a = v128.load32_splat(pa, 16);
      c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
      a = v128.load32_splat(pa, 20);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
    pa += MR << 2;
    pb += NR << 2;
  }
  const row = <usize>ldc << 2;
  v128.store(c, c00); v128.store(c, c01, 16); c += row;
  v128.store(c, c10); v128.store(c, c11, 16); c += row;
  v128.store(c, c20); v128.store(c, c21, 16); c += row;
  v128.store(c, c30); v128.store(c, c31, 16);
  if (MR == 6) {
    c += row;
    v128.store(c, c40); v128.store(c, c41, 16); c += row;
    v128.store(c, c50); v128.store(c, c51, 16);
  }
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
        kernel(packedA, pb, K, dst, N);
      } else {
        // An edge block: compute the full MR x 8 into the tile, copy what fits.
        kernel(packedA, pb, K, tile, NR);
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < cols; q++) {
            store<f32>(dst + (<usize>(r * N + q) << 2), load<f32>(tile + (<usize>(r * NR + q) << 2)));
          }
        }
      }
    }
  }
}

/**
 * A batch of products C_i = op(A_i) · op(B_i), thread `thread` of `threads`
 * taking its share (aStep, bStep, cStep: bytes between items): whole
 * products per thread when there are at least as many as threads
 * (attention's heads), else each product split by column panels.
 */
export function matmulJob(
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, M: i32, N: i32, K: i32,
  batch: i32, aStep: i32, bStep: i32, cStep: i32,
  thread: i32, threads: i32, scratch: usize,
): void {
  const panels = panelCount(N);
  if (batch >= threads) {
    const i0 = (batch * thread) / threads;
    const i1 = (batch * (thread + 1)) / threads;
    for (let i = i0; i < i1; i++) {
      matmulPanels(a + <usize>i * <usize>aStep, aRow, aCol, b + <usize>i * <usize>bStep, bRow, bCol, c + <usize>i * <usize>cStep, M, N, K, 0, panels, scratch);
    }
    return;
  }
  const p0 = (panels * thread) / threads;
  const p1 = (panels * (thread + 1)) / threads;
  if (p1 <= p0) return;
  for (let i = 0; i < batch; i++) {
    matmulPanels(a + <usize>i * <usize>aStep, aRow, aCol, b + <usize>i * <usize>bStep, bRow, bCol, c + <usize>i * <usize>cStep, M, N, K, p0, p1, scratch);
  }
}
