// The link between @tx/core's kernel module and tfjs-wasm: the kernels are
// instantiated on tfjs-wasm's own WebAssembly.Memory, so they read and write
// tensors where tfjs keeps them, at the byte offsets tfjs hands out.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { RELAXED_SIMD, RELAXED_SIMD_SHARED, SIMD128, SIMD128_SHARED } from './binary.generated.js';
import type { Buffer, KernelExports } from './jobs.generated.js';

export type { KernelExports };

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

/** The byte offset of a tensor's data in tfjs-wasm's memory. */
export function offsetOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** A tensor's data as a kernel job's buffer: its byte offset and length (float32 and int32: 4 bytes an element). */
export function bufferOf(backend: WasmBackend, t: TensorInfo): Buffer {
  return { offset: offsetOf(backend, t), bytes: 4 * t.shape.reduce((n, d) => n * d, 1) };
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
