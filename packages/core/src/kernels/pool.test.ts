// The thread pool working in place on a shared memory, as it does on
// tfjs-wasm's threaded build in cross-origin-isolated pages: here a shared
// WebAssembly.Memory with a bump allocator stands for tfjs's heap. The
// products it splits between threads must equal one thread's, bit for bit,
// and it must give back what it took from the heap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { kernelsInfo } from './install.js';
import { jobs } from './jobs.generated.js';
import { ThreadPool, runJob, type SharedHeap } from './pool.js';
import { compileShared, type KernelExports, type KernelModule } from './wasm.js';

/** A shared memory and a bump allocator over it that counts what is still allocated. */
function bumpHeap(): SharedHeap & { live: Set<number> } {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  let top = 1 << 16;
  const live = new Set<number>();
  return {
    memory,
    live,
    malloc(bytes) {
      const at = top;
      top += (bytes + 63) & ~63;
      live.add(at);
      return at;
    },
    free(offset) {
      if (!live.delete(offset)) throw new Error(`free of ${offset}, which is not allocated`);
    },
  };
}

describe('ThreadPool in place (tfjs-wasm threaded build)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('splits a product between 2 threads on the shared heap, with the bits of one thread, and frees what it took', async () => {
    const module = await compileShared(kernelsInfo().simd!);
    const heap = bumpHeap();
    const pool = (await ThreadPool.start(2, module, heap))!;
    expect(pool.inPlace).toBe(true);
    const one = (await WebAssembly.instantiate(module, { env: { memory: heap.memory } })).exports as unknown as KernelExports;
    // One thread: the same module and call path (runJob), with its control block and scratch from the heap.
    const scratch = heap.malloc(1 << 20);
    const single: KernelModule = { exports: one, simd: kernelsInfo().simd!, scratch: () => (scratch + 15) & ~15 };
    const bytes = () => new Uint8Array(heap.memory.buffer);
    const [M, K, N] = [70, 130, 90];
    const a = heap.malloc(4 * M * K);
    const b = heap.malloc(4 * K * N);
    const [c1, c2] = [heap.malloc(4 * M * N), heap.malloc(4 * M * N)];
    const floats = new Float32Array(heap.memory.buffer);
    for (let i = 0; i < M * K; i++) floats[a / 4 + i] = Math.sin(i);
    for (let i = 0; i < K * N; i++) floats[b / 4 + i] = Math.cos(i * 0.7);
    const buffer = (offset: number, n: number) => ({ offset, bytes: 4 * n });
    const product = (c: number, aAt = a) =>
      jobs.matmul({ a: buffer(aAt, M * K), aRow: K, aCol: 1, b: buffer(b, K * N), bRow: N, bCol: 1, c: buffer(c, M * N), M, N, K, batch: 1, aStep: 0, bStep: 0, cStep: 0, scratch: one.matmulScratch(M, N, K) });
    runJob(null, single, bytes, product(c1));
    runJob(pool, single, bytes, product(c2));
    const view = new Float32Array(heap.memory.buffer);
    expect(Array.from(view.subarray(c2 / 4, c2 / 4 + M * N))).toEqual(Array.from(view.subarray(c1 / 4, c1 / 4 + M * N)));
    // Check by hand one entry, so that two wrong threads cannot agree: C[3][5] = Σ_k A[3][k] B[k][5].
    let expected = 0;
    for (let k = 0; k < K; k++) expected += Math.sin(3 * K + k) * Math.cos((k * N + 5) * 0.7);
    expect(view[c2 / 4 + 3 * N + 5]).toBeCloseTo(expected, 3);
    // GELU split by ranges, in place (a tail of 3 elements), against one thread.
    const n = 70_003;
    const [x, y1, y2] = [heap.malloc(4 * n), heap.malloc(4 * n), heap.malloc(4 * n)];
    const xs = new Float32Array(heap.memory.buffer, x, n);
    for (let i = 0; i < n; i++) xs[i] = Math.sin(i) * 4;
    const gelu = (y: number) => jobs.gelu({ x: buffer(x, n), y: buffer(y, n), n, approximate: false });
    runJob(null, single, bytes, gelu(y1));
    runJob(pool, single, bytes, gelu(y2));
    const after = new Float32Array(heap.memory.buffer);
    expect(Array.from(after.subarray(y2 / 4, y2 / 4 + n))).toEqual(Array.from(after.subarray(y1 / 4, y1 / 4 + n)));
    // A job that traps (operands past the end of memory) throws here, on every thread, instead of hanging; the pool still works.
    expect(() => runJob(pool, single, bytes, product(c2, 0x7ff00000))).toThrow(`a kernel thread failed (op ${product(c2).op})`);
    runJob(pool, single, bytes, gelu(y2));
    for (const offset of [a, b, c1, c2, scratch, x, y1, y2]) heap.free(offset);
    pool.stop();
    expect(heap.live.size).toBe(0); // the control block and the threads' scratch were given back
  }, 60_000);
});
