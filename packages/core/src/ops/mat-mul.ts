// Matrix products: matMul, the 2-D product every Linear makes, and the wasm
// kernel behind tfjs's BatchMatMul.
//
// tfjs-wasm's own BatchMatMul is fast only for a plain 2-D product; a
// transpose flag or a batch dimension (attention's per-head QKᵀ and P·V)
// takes a path ~15x slower (docs/performance.md §2), and tfjs's matMul
// gradient uses flags. So:
// - with @tx's kernels on, BatchMatMul is ours (kernels/matmul.ts): one speed
//   for all, the transposes become strides, large products are split between
//   a pool's threads; matMul's gradient then uses transpose flags;
// - without them, matMul's gradient transposes explicitly, then makes a
//   flag-free 2-D product (4x faster for a GPT training step).
import { broadcast_util, util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { addWasmKernel, kernelsActive } from '../kernels/install.js';
import { jobs } from '../kernels/jobs.generated.js';
import type { WasmBackend } from '../kernels/wasm.js';
import { tf } from '../tf.js';
import { bufferOf, differentiable, kernelScratch, run } from './define.js';

/** Options of matMul. */
export interface MatMulOptions {
  /** Multiply by bᵀ: b is [N, K] (a tied output layer reading the embedding's rows). Default false. */
  transposeB?: boolean;
  /** [N], added to every row: on webgpu in the product's own dispatch (tfjs's fused matMul), an add elsewhere. Default none. */
  bias?: tf.Tensor | null;
}

/** a [M, K] · b [K, N] (or bᵀ with b [N, K]) (+ bias [N]) -> [M, N], with a gradient that stays on the fast path of either backend. */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, { transposeB = false, bias = null }: MatMulOptions = {}): tf.Tensor2D {
  if (!bias) return product({ transposeB }, a, b) as tf.Tensor2D;
  if (tf.getBackend() === 'webgpu') return productWithBias({ transposeB }, a, b, bias) as tf.Tensor2D;
  return tf.tidy(() => tf.add(product({ transposeB }, a, b), bias) as tf.Tensor2D);
}

/** The product with each backend's fast transposes: flags with @tx's kernels and on webgpu (its shader reads either layout), explicit transposes with tfjs-wasm's and cpu's. */
function times(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean): tf.Tensor {
  if (kernelsActive() || tf.getBackend() === 'webgpu') return tf.matMul(x, y, tx, ty);
  return tf.matMul(tx ? tf.transpose(x) : x, ty ? tf.transpose(y) : y);
}

// y = a b: da = dy bᵀ, db = aᵀ dy;  y = a bᵀ: da = dy b, db = dyᵀ a
const productGrads = (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, transposeB: boolean) =>
  transposeB ? [times(dy, b, false, false), times(dy, a, true, false)] : [times(dy, b, false, true), times(a, dy, true, false)];

const product = differentiable(({ transposeB }: { transposeB: boolean }) => ({
  forward: (a, b) => ({ value: times(a, b, false, transposeB), saved: [a, b] }),
  backward: (dy, [a, b]) => productGrads(dy, a, b, transposeB),
}));

// On webgpu: the bias added by the product's shader (one dispatch, not two); its gradient is dy's column sums.
const productWithBias = differentiable(({ transposeB }: { transposeB: boolean }) => ({
  forward: (a, b, bias) => ({ value: tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeB, bias }), saved: [a, b] }),
  backward: (dy, [a, b]) => [...productGrads(dy, a, b, transposeB), tf.sum(dy, 0)],
}));

// The wasm binding: tfjs's BatchMatMul, replaced while @tx's kernels are on. Shapes it does not
// cover (a batch broadcast other than 1 against n, non-float32) go to tfjs's kernel.

/** Products with fewer multiply-adds than this stay on one thread (copying them costs more than it saves). */
const POOLED_MACS = 1 << 20;

interface MatMulArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackend;
  attrs: NamedAttrMap & { transposeA: boolean; transposeB: boolean };
}

addWasmKernel({ kernelName: tf.BatchMatMul, make: (original) => batchMatMul(original!) });

function batchMatMul(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: MatMulArgs): TensorInfo => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const [aRows, aCols] = a.shape.slice(-2);
    const [bRows, bCols] = b.shape.slice(-2);
    const [M, K] = transposeA ? [aCols, aRows] : [aRows, aCols];
    const [K2, N] = transposeB ? [bCols, bRows] : [bRows, bCols];
    if (K !== K2) {
      throw new Error(`Error in matMul: inner shapes (${K}) and (${K2}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
    }
    const batchShape = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const out = backend.makeOutput([...batchShape, M, N], 'float32');
    const batch = Math.max(batchA, batchB);
    if (M * N === 0 || batch === 0) return out;
    // Element (i, k) of op(A) is at i * aRow + k * aCol floats; likewise op(B).
    const [aRow, aCol] = transposeA ? [1, M] : [K, 1];
    const [bRow, bCol] = transposeB ? [1, K] : [N, 1];
    // [n, M, K] x [K, N] is one [n M, K] x [K, N] product, B packed once.
    const fold = batchB === 1 && !transposeA;
    const [m, items] = fold ? [batch * M, 1] : [M, batch];
    const [aStep, bStep, cStep] = [batchA === 1 ? 0 : 4 * M * K, batchB === 1 ? 0 : 4 * K * N, 4 * M * N];
    const scratch = kernelScratch().matmulScratch(m, N, K);
    // A literal, not a spread: `{ ...x, more }` costs microseconds in Node 20's V8 (docs/performance.md).
    const job = { a: bufferOf(backend, a), aRow, aCol, b: bufferOf(backend, b), bRow, bCol, c: bufferOf(backend, out), M: m, N, K, batch: items, aStep, bStep, cStep, scratch };
    run(jobs.matmul(job), items * m * N * K >= POOLED_MACS);
    return out;
  };
  return { kernelName: original.kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
