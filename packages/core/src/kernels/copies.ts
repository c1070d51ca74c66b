// Kernels that only move bytes: SplitV, Concat and GatherV2 (axis 0) as
// memory copies inside tfjs-wasm's heap.
//
// tfjs-wasm runs these through generic strided loops: splitting attention's
// fused q, k, v (a few MB) took 2.8 ms per call, gathering 768 embedding rows
// 5 ms. Here each is one copyWithin per contiguous chunk. Dtypes other than
// float32 and int32, and gathers along other axes, go to tfjs's kernels.
import { backend_util, util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { offsetOf, type WasmBackend } from './wasm.js';

interface Args {
  inputs: TensorInfo[] | Record<string, TensorInfo>;
  backend: WasmBackend;
  attrs: NamedAttrMap;
}

const WORD = new Set(['float32', 'int32']);
const make = (original: KernelConfig, fn: (args: Args) => TensorInfo | TensorInfo[] | null): KernelConfig => ({
  kernelName: original.kernelName,
  backendName: 'wasm',
  kernelFunc: ((args: Args) => fn(args) ?? original.kernelFunc(args as unknown as Parameters<KernelFunc>[0])) as unknown as KernelFunc,
});
const sizeOf = (shape: number[], from: number, to = shape.length) => util.sizeFromShape(shape.slice(from, to));

/** x split along `axis` into pieces: each piece is `outer` chunks of size_i · inner elements. */
export function splitVConfig(original: KernelConfig): KernelConfig {
  return make(original, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    if (!WORD.has(x.dtype)) return null;
    const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits as number[], axis);
    const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), x.dtype as 'float32'));
    const [outer, inner, dim] = [sizeOf(x.shape, 0, axis), sizeOf(x.shape, axis + 1), x.shape[axis]];
    const heap = backend.wasm.HEAPU8; // read after the allocations, which may grow memory
    const src = offsetOf(backend, x);
    let start = 0;
    sizes.forEach((s, j) => {
      const dst = offsetOf(backend, outs[j]);
      const bytes = 4 * s * inner;
      for (let o = 0; o < outer; o++) {
        const from = src + 4 * (o * dim + start) * inner;
        heap.copyWithin(dst + o * bytes, from, from + bytes);
      }
      start += s;
    });
    return outs;
  });
}

/** Tensors joined along `axis`: per outer index, each input's chunk in turn. */
export function concatConfig(original: KernelConfig): KernelConfig {
  return make(original, ({ inputs, backend, attrs }) => {
    const all = Array.isArray(inputs) ? inputs : Object.values(inputs);
    if (all.length === 0 || !all.every((t) => t.dtype === all[0].dtype && WORD.has(t.dtype))) return null;
    const axis = util.parseAxisParam(attrs.axis as number, all[0].shape)[0];
    const outShape = backend_util.computeOutShape(all.map((t) => t.shape), axis);
    const out = backend.makeOutput(outShape, all[0].dtype as 'float32');
    const parts = all.filter((t) => util.sizeFromShape(t.shape) > 0);
    const outer = sizeOf(outShape, 0, axis);
    const heap = backend.wasm.HEAPU8;
    let dst = offsetOf(backend, out);
    const chunks = parts.map((t) => ({ src: offsetOf(backend, t), bytes: 4 * sizeOf(t.shape, axis) }));
    for (let o = 0; o < outer; o++) {
      for (const c of chunks) {
        const from = c.src + o * c.bytes;
        heap.copyWithin(dst, from, from + c.bytes);
        dst += c.bytes;
      }
    }
    return out;
  });
}

/** Rows of x picked by int32 indices along axis 0 (an embedding lookup). */
export function gatherConfig(original: KernelConfig): KernelConfig {
  return make(original, ({ inputs, backend, attrs }) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
    if (axis !== 0 || (attrs.batchDims as number) !== 0 || !WORD.has(x.dtype) || indices.dtype !== 'int32') return null;
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype as 'float32');
    const n = util.sizeFromShape(indices.shape);
    const rows = x.shape[0];
    const bytes = 4 * sizeOf(x.shape, 1);
    const { HEAPU8: heap, HEAP32: words } = backend.wasm;
    const src = offsetOf(backend, x);
    const dst = offsetOf(backend, out);
    const first = offsetOf(backend, indices) >> 2;
    for (let i = 0; i < n; i++) {
      const row = words[first + i];
      if (!(row >= 0 && row < rows)) {
        throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      }
      heap.copyWithin(dst + i * bytes, src + row * bytes, src + (row + 1) * bytes);
    }
    return out;
  });
}
