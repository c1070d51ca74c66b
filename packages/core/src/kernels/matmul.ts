// tfjs's BatchMatMul on the wasm backend, done by kernels/matmul.ts.
//
// tfjs-wasm's own BatchMatMul is fast only for a plain 2-D product; a
// transpose flag or a batch dimension (attention's per-head QKᵀ and
// weights·V) takes a path ~15x slower (docs/performance.md §2). This one has one speed for
// all: the transposes become strides and every product runs the packed SIMD
// micro-kernel. Shapes it does not cover (a batch broadcast other than 1
// against n, non-float32) go to tfjs's kernel.
import { broadcast_util, util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { POOL_OPS, runJob, type ThreadPool } from './pool.js';
import { offsetOf, type KernelModule, type WasmBackend } from './wasm.js';

/** Products smaller than this many multiply-adds stay on one thread (copying them costs more than it saves). */
const THREADED_MACS = 1 << 20;

interface MatMulArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackend;
  attrs: NamedAttrMap & { transposeA: boolean; transposeB: boolean };
}

/** A BatchMatMul kernel config running on `kernels` (and `pool`'s threads for large products), falling back to `original`. */
export function batchMatMulConfig(kernels: KernelModule, original: KernelConfig, pool: ThreadPool | null): KernelConfig {
  const fallback = original.kernelFunc;
  const kernelFunc = (args: MatMulArgs): TensorInfo => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const [aRows, aCols] = [a.shape[ra - 2], a.shape[ra - 1]];
    const [bRows, bCols] = [b.shape[rb - 2], b.shape[rb - 1]];
    const [M, K] = transposeA ? [aCols, aRows] : [aRows, aCols];
    const [K2, N] = transposeB ? [bCols, bRows] : [bRows, bCols];
    if (K !== K2) {
      throw new Error(`Error in matMul: inner shapes (${K}) and (${K2}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
    }
    const batchShape = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const out = backend.makeOutput([...batchShape, M, N], 'float32');
    const batch = Math.max(batchA, batchB);
    if (M * N === 0 || batch === 0) return out;

    // Element (i, k) of op(A) is at (i * aRow + k * aCol) floats; likewise op(B).
    const [aRow, aCol] = transposeA ? [1, M] : [K, 1];
    const [bRow, bCol] = transposeB ? [1, K] : [N, 1];
    let aOffset = offsetOf(backend, a);
    let bOffset = offsetOf(backend, b);
    let cOffset = offsetOf(backend, out);
    const { matmul, matmulScratch } = kernels.exports;
    const fold = batchB === 1 && !transposeA; // [n, M, K] x [K, N]: one [n * M, K] x [K, N] product, B packed once
    const [m, items] = fold ? [batch * M, 1] : [M, batch];
    const [aStep, bStep, cStep] = [batchA === 1 ? 0 : 4 * M * K, batchB === 1 ? 0 : 4 * K * N, 4 * M * N];
    if (pool && items * m * N * K >= THREADED_MACS) {
      threaded(pool, kernels, backend, matmulScratch(m, N, K), { aOffset, bOffset, cOffset, aBytes: 4 * M * K * batchA, bBytes: 4 * K * N * batchB, cBytes: 4 * M * N * batch }, [aRow, aCol, bRow, bCol, m, N, K, items, aStep, bStep, cStep]);
      return out;
    }
    if (fold) {
      matmul(aOffset, aRow, aCol, bOffset, bRow, bCol, cOffset, m, N, K, kernels.scratch(matmulScratch(m, N, K)));
      return out;
    }
    const scratch = kernels.scratch(matmulScratch(M, N, K));
    for (let i = 0; i < batch; i++) {
      matmul(aOffset, aRow, aCol, bOffset, bRow, bCol, cOffset, M, N, K, scratch);
      aOffset += aStep;
      bOffset += bStep;
      cOffset += cStep;
    }
    return out;
  };
  return { kernelName: original.kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The products on the pool (kernels/threads.ts), every thread computing its share. */
function threaded(
  pool: ThreadPool,
  kernels: KernelModule,
  backend: WasmBackend,
  scratchPerThread: number,
  io: { aOffset: number; bOffset: number; cOffset: number; aBytes: number; bBytes: number; cBytes: number },
  [aRow, aCol, bRow, bCol, M, N, K, batch, aStep, bStep, cStep]: number[],
): void {
  const buffers = [{ offset: io.aOffset, bytes: io.aBytes }, { offset: io.bOffset, bytes: io.bBytes }, { offset: io.cOffset, bytes: io.cBytes, out: true }];
  runJob(pool, kernels, () => backend.wasm.HEAPU8, POOL_OPS.matmul, buffers, scratchPerThread, ([a, b, c], scratch, per) => [a, aRow, aCol, b, bRow, bCol, c, M, N, K, batch, aStep, bStep, cStep, scratch, per]);
}
