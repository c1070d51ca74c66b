// The link between @tx/core's kernel module and tfjs-wasm: the kernels are
// instantiated on tfjs-wasm's own WebAssembly.Memory, so they read and write
// tensors where tfjs keeps them, at the byte offsets tfjs hands out.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { RELAXED_SIMD, RELAXED_SIMD_SHARED, SIMD128, SIMD128_SHARED } from './binary.generated.js';

/** What the kernels need of tfjs's wasm backend (BackendWasm, structurally). */
export interface WasmBackend {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    _malloc(bytes: number): number;
    _free(offset: number): void;
    /** Views of the heap: replaced when the memory grows, so read them after allocating. */
    HEAPU8: Uint8Array;
    HEAP32: Int32Array;
    HEAPU32: Uint32Array;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** The exports of kernels/index.ts. Pointers are byte offsets into tfjs-wasm's memory. */
export interface KernelExports {
  matmul(a: number, aRow: number, aCol: number, b: number, bRow: number, bCol: number, c: number, M: number, N: number, K: number, scratch: number): void;
  matmulScratch(M: number, N: number, K: number): number;
  gelu(x: number, y: number, n: number, approximate: boolean): void;
  geluGrad(x: number, dy: number, dx: number, n: number, approximate: boolean): void;
  layerNorm(x: number, w: number, b: number, y: number, mean: number, rstd: number, N: number, C: number, eps: number): void;
  layerNormGrad(x: number, w: number, mean: number, rstd: number, dy: number, dx: number, dw: number, db: number, N: number, C: number): void;
  decodeScratch(C: number, H: number, T: number, rows: number): number;
  decode(
    table: number, tokens: number, n: number, pos: number, L: number, H: number, C: number, V: number, T: number, activation: number, eps: number,
    kCache: number, vCache: number, scratch: number, logits: number,
  ): void;
  attentionScratch(Tq: number, Tk: number, d: number): number;
  attentionForward(q: number, k: number, v: number, out: number, lse: number, BH: number, Tq: number, Tk: number, d: number, scale: number, causal: boolean, scratch: number): void;
  attentionBackward(
    q: number, k: number, v: number, out: number, lse: number, dout: number, dq: number, dk: number, dv: number,
    BH: number, Tq: number, Tk: number, d: number, scale: number, causal: boolean, scratch: number,
  ): void;
  attentionPackedForward(qkv: number, out: number, lse: number, H: number, T: number, d: number, scale: number, causal: boolean, first: number, last: number, scratch: number): void;
  attentionPackedBackward(qkv: number, out: number, lse: number, dout: number, dqkv: number, H: number, T: number, d: number, scale: number, causal: boolean, first: number, last: number, scratch: number): void;
  crossEntropy(x: number, targets: number, N: number, V: number, hasIgnore: boolean, ignore: number, eps: number, lse: number, out: number): void;
  crossEntropyGrad(x: number, targets: number, lse: number, dy: number, N: number, V: number, hasIgnore: boolean, ignore: number, eps: number, dx: number): void;
  sumOfSquares(x: number, n: number): number;
  /** Thread `thread` of `threads` does its share of the pool job whose control block is at `control` (kernels/threads.ts). */
  work(control: number, thread: number, threads: number): void;
  adamW(
    p: number, m: number, v: number, g: number, scale: number, pOut: number, mOut: number, vOut: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, correction2: number, eps: number, decay: number, stepSize: number,
  ): void;
}

/** The byte offset of a tensor's data in tfjs-wasm's memory. */
export function offsetOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** Which instruction set the kernels were compiled for. */
export type KernelSimd = 'relaxed-simd' | 'simd128';

/** The kernel module instantiated on a backend's memory, with a scratch area that grows on demand. */
export interface KernelModule {
  readonly exports: KernelExports;
  readonly simd: KernelSimd;
  /** A 16-byte-aligned offset with at least `bytes` free, reused between calls. */
  scratch(bytes: number): number;
}

const decode = (base64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/** tfjs-wasm's WebAssembly.Memory: exported by its plain builds; its threaded build (cross-origin-isolated pages) imports a shared one. */
export function wasmMemory(backend: WasmBackend): WebAssembly.Memory {
  const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error("tfjs-wasm's WebAssembly.Memory is not reachable");
  return memory;
}

/** Instantiate the kernels on tfjs-wasm's memory; relaxed SIMD when `relaxed` is allowed and the engine validates it. */
export async function instantiateKernels(backend: WasmBackend, relaxed: boolean): Promise<KernelModule> {
  const memory = wasmMemory(backend);
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const relaxedBytes = decode(shared ? RELAXED_SIMD_SHARED : RELAXED_SIMD);
  const simd: KernelSimd = relaxed && WebAssembly.validate(relaxedBytes) ? 'relaxed-simd' : 'simd128';
  const bytes = simd === 'relaxed-simd' ? relaxedBytes : decode(shared ? SIMD128_SHARED : SIMD128);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { env: { memory } });
  let offset = 0;
  let size = 0;
  return {
    exports: instance.exports as unknown as KernelExports,
    simd,
    scratch(bytes: number): number {
      if (bytes > size) {
        if (offset) backend.wasm._free(offset);
        size = Math.max(bytes, size * 2);
        offset = backend.wasm._malloc(size + 16) >>> 0;
      }
      return (offset + 15) & ~15;
    },
  };
}

/** The kernels compiled for a shared memory (a thread pool's), with the instruction set `simd`. */
export function compileShared(simd: KernelSimd): Promise<WebAssembly.Module> {
  return WebAssembly.compile(decode(simd === 'relaxed-simd' ? RELAXED_SIMD_SHARED : SIMD128_SHARED));
}
