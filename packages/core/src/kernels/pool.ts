// A pool of threads for the kernels: N-1 workers plus the calling thread,
// sharing one WebAssembly.Memory. A job is written into a control block in
// it; Atomics wake the workers (no postMessage per job), every thread runs
// the kernels' work() on its share, and the caller waits until all are done.
//
// Which memory: where tfjs-wasm's own is shared (its threaded build, which
// browsers load on cross-origin-isolated pages), the pool works on it and a
// product's operands are read where tfjs keeps them. Elsewhere (Node, whose
// tfjs-wasm build is single-threaded) the pool has its own memory, the
// arena, and operands are copied into it and results back: a few hundred kB
// per product, small next to the product itself.
//
// The caller waits with Atomics.wait where it may; a page's main thread may
// not, so there it spins on Atomics.load for the few milliseconds a product
// takes. Results do not depend on the number of threads: each output is
// computed whole by one thread, with the same arithmetic.
import { spawnWorker } from '#platform';
import { CONTROL, type Job } from './jobs.generated.js';
import type { KernelModule } from './wasm.js';

// The control block's words, as kernels/table.mjs lays them out. A thread whose
// work threw (a kernel trapped) sets `failed`: run() then throws instead of
// returning garbage.
const { generation: GEN, done: DONE, op: OP, failed: FAILED, args: ARGS } = CONTROL;
/** The op that stops the workers. */
const STOP = -1;
/** Bytes of the control block (at the arena's start, or allocated in tfjs's memory). */
export const CONTROL_BYTES = CONTROL.bytes;

/**
 * The worker's whole program, run from its source text (so it needs no file of
 * its own in any bundler): instantiate the kernels on the shared memory, then
 * wait for a generation, work, count itself done, and wait again. It counts
 * itself done whatever happens, a trap included (flagged in word 3), and on
 * STOP too, so that the caller never waits forever and frees the control
 * block only once no worker reads it.
 */
function workerMain(
  start: { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; index: number; threads: number; layout: typeof CONTROL },
  ready: () => void,
): void {
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  const work = instance.exports.work as (control: number, thread: number, threads: number) => void;
  const { generation: gen, done, op, failed, bytes } = start.layout; // the source text runs alone: the layout comes with the start
  const control = new Int32Array(start.memory.buffer, start.control, bytes / 4);
  let generation = Atomics.load(control, gen);
  ready();
  for (;;) {
    Atomics.wait(control, gen, generation);
    generation = Atomics.load(control, gen);
    const stop = Atomics.load(control, op) === -1;
    if (!stop) {
      try {
        work(start.control, start.index, start.threads);
      } catch {
        Atomics.store(control, failed, 1);
      }
    }
    Atomics.add(control, done, 1);
    Atomics.notify(control, done);
    if (stop) return;
  }
}

/** tfjs-wasm's memory when it is shared, with its allocator: the pool then works on it in place. */
export interface SharedHeap {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(offset: number): void;
}

/** A started pool; `run` is synchronous, like every tfjs-wasm kernel. */
export class ThreadPool {
  readonly memory: WebAssembly.Memory;
  /** True when the pool works on tfjs's memory: operands are read in place, nothing is copied. */
  readonly inPlace: boolean;
  private readonly work: (control: number, thread: number, threads: number) => void;
  private readonly control: Int32Array;
  /** Atomics.wait is allowed on this thread (not on a page's main thread). */
  private readonly canWait: boolean;
  private scratch = { offset: 0, bytes: 0 };

  private constructor(
    readonly threads: number,
    memory: WebAssembly.Memory,
    private readonly controlOffset: number,
    /** tfjs's heap when in place, and what its malloc returned for the control block. */
    private readonly heap: SharedHeap | null,
    private readonly allocation: number,
    instance: WebAssembly.Instance,
    private readonly workers: { terminate(): unknown }[],
  ) {
    this.memory = memory;
    this.inPlace = heap !== null;
    this.work = instance.exports.work as ThreadPool['work'];
    this.control = new Int32Array(memory.buffer, controlOffset, CONTROL_BYTES / 4);
    this.canWait = mayWait(this.control);
  }

  /**
   * Start `threads` - 1 workers on the shared-memory build of the kernels: on
   * `heap` (tfjs's shared memory) when given, else on a memory of their own.
   * Null where threads cannot run here (no workers, or no SharedArrayBuffer).
   */
  static async start(threads: number, module: WebAssembly.Module, heap: SharedHeap | null = null): Promise<ThreadPool | null> {
    if (typeof SharedArrayBuffer === 'undefined') return null;
    const memory = heap?.memory ?? new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
    const control = heap ? heap.malloc(CONTROL_BYTES + 64) : 0;
    const aligned = (control + 63) & ~63;
    new Int32Array(memory.buffer, aligned, CONTROL_BYTES / 4).fill(0);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const workers: { terminate(): unknown }[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = await spawnWorker(`(${workerMain.toString()})`, { module, memory, control: aligned, index, threads, layout: CONTROL }).catch(() => null);
      if (!worker) {
        for (const w of workers) w.terminate();
        if (heap) heap.free(control);
        return null;
      }
      workers.push(worker);
    }
    return new ThreadPool(threads, memory, aligned, heap, control, instance, workers);
  }

  /** The arena's bytes now (grown by ensure); only for a pool with its own memory. */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Grow the arena to hold at least `bytes` past the control block; only for a pool with its own memory. */
  ensure(bytes: number): void {
    const needed = CONTROL_BYTES + bytes;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / 65536));
  }

  /** A 64-byte-aligned block of at least `bytes` in tfjs's memory, reused between jobs; only for a pool in place. */
  scratchInPlace(bytes: number): number {
    if (bytes > this.scratch.bytes) {
      if (this.scratch.offset) this.heap!.free(this.scratch.offset);
      this.scratch = { offset: this.heap!.malloc(bytes + 64), bytes };
    }
    return (this.scratch.offset + 63) & ~63;
  }

  /** Run job `op` with integer `args` on every thread; returns when all are done. */
  run(op: number, args: number[]): void {
    const control = this.control;
    control.set(args, ARGS);
    control[OP] = op;
    this.start();
    let failed = false;
    try {
      this.work(this.controlOffset, 0, this.threads);
    } catch {
      failed = true;
    }
    this.waitForWorkers();
    const flagged = Atomics.exchange(control, FAILED, 0) !== 0; // read (and reset) whatever this thread did
    if (failed || flagged) throw new Error(`a kernel thread failed (op ${op}): the wasm kernels trapped`);
  }

  /** Stop the workers once each has seen the stop (and then free what the pool took from tfjs's memory). */
  stop(): void {
    this.control[OP] = STOP;
    this.start();
    this.waitForWorkers();
    for (const w of this.workers) w.terminate();
    if (this.heap) {
      this.heap.free(this.allocation);
      if (this.scratch.offset) this.heap.free(this.scratch.offset);
    }
  }

  /** Wake the workers on a new generation of the control block. */
  private start(): void {
    Atomics.store(this.control, DONE, 0);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
  }

  /** Until every worker counted itself done: blocking where this thread may, else spinning. */
  private waitForWorkers(): void {
    const control = this.control;
    const others = this.threads - 1;
    for (let done = Atomics.load(control, DONE); done < others; done = Atomics.load(control, DONE)) {
      if (this.canWait) Atomics.wait(control, DONE, done);
    }
  }
}

/** Whether this thread may block in Atomics.wait (a page's main thread may not: it throws). */
function mayWait(control: Int32Array): boolean {
  try {
    Atomics.wait(control, CONTROL_BYTES / 4 - 1, 1, 0); // the value differs: returns at once
    return true;
  } catch {
    return false;
  }
}

/**
 * Run `job` (a builder of jobs.generated.ts made it), the one path every
 * kernel call takes: its arguments go into a control block and the module's
 * work() runs it.
 * - On `pool`'s threads: in place where the pool shares the kernels' memory,
 *   else with the buffers the kernel reads copied into the pool's arena and
 *   those it writes copied back.
 * - Without a pool: on the calling thread, in place, with the control block
 *   in the module's scratch. One code path for any thread count, so the
 *   results cannot differ.
 * `heap()` gives the kernels' memory's bytes now (it may grow).
 */
export function runJob(pool: ThreadPool | null, kernels: KernelModule, heap: () => Uint8Array, job: Job): void {
  const align = (n: number) => (n + 63) & ~63;
  const per = align(job.scratch);
  const at = (b: { offset: number } | null) => (b ? b.offset : 0);
  if (!pool) {
    const control = kernels.scratch(CONTROL_BYTES + per + 64);
    const scratch = align(control + CONTROL_BYTES);
    const words = new Int32Array(heap().buffer, control, CONTROL_BYTES / 4); // after scratch(), which may grow the heap
    const args = job.args(at);
    words[OP] = job.op;
    words.set(args, ARGS);
    if (job.scratch) {
      words[ARGS + args.length] = scratch;
      words[ARGS + args.length + 1] = per;
    }
    kernels.exports.work(control, 0, 1);
    return;
  }
  if (pool.inPlace) {
    pool.run(job.op, [...job.args(at), ...(job.scratch ? [pool.scratchInPlace(per * pool.threads), per] : [])]);
    return;
  }
  const placed = new Map<object, number>();
  let end = CONTROL_BYTES;
  for (const [b] of job.buffers) {
    if (!b || placed.has(b)) continue;
    placed.set(b, end);
    end += align(b.bytes);
  }
  pool.ensure(end - CONTROL_BYTES + per * pool.threads);
  const arena = pool.bytes();
  const bytes = heap();
  for (const [b, access] of job.buffers) if (b && access !== 'out') arena.set(bytes.subarray(b.offset, b.offset + b.bytes), placed.get(b)!);
  pool.run(job.op, [...job.args((b) => (b ? placed.get(b)! : 0)), ...(job.scratch ? [end, per] : [])]);
  for (const [b, access] of job.buffers) if (b && access !== 'in') bytes.set(arena.subarray(placed.get(b)!, placed.get(b)! + b.bytes), b.offset);
}
