// A pool of threads for the kernels: N-1 workers plus the calling thread,
// sharing one WebAssembly.Memory (the arena). A job is written into a control
// block at the arena's start; Atomics wake the workers (no postMessage per
// job), every thread runs the kernels' work() on its share, and the caller
// waits until all are done.
//
// tfjs-wasm's own memory cannot be shared (its Node build is single-threaded),
// so operands are copied into the arena and results back: a few hundred kB
// per product, small next to the product itself; small products stay on one
// thread in tfjs's memory. Results do not depend on the number of threads:
// each output is computed whole by one thread, with the same arithmetic.
import { spawnWorker } from '#platform';

/** Words of the control block (Int32). */
const GEN = 0;
const DONE = 1;
const OP = 2;
const ARGS = 4;
/** The op that stops the workers. */
const STOP = -1;
/** Bytes before the arena's data: the control block. */
export const CONTROL_BYTES = 256;

/**
 * The worker's whole program, run from its source text (so it needs no file of
 * its own in any bundler): instantiate the kernels on the shared memory, then
 * wait for a generation, work, count itself done, and wait again.
 */
function workerMain(start: { module: WebAssembly.Module; memory: WebAssembly.Memory; index: number; threads: number }, ready: () => void): void {
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  const work = instance.exports.work as (control: number, thread: number, threads: number) => void;
  const control = new Int32Array(start.memory.buffer, 0, 64);
  let generation = Atomics.load(control, 0);
  ready();
  for (;;) {
    Atomics.wait(control, 0, generation);
    generation = Atomics.load(control, 0);
    if (Atomics.load(control, 2) === -1) return;
    work(0, start.index, start.threads);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  }
}

/** A started pool; `run` is synchronous, like every tfjs-wasm kernel. */
export class ThreadPool {
  readonly memory: WebAssembly.Memory;
  private readonly work: (control: number, thread: number, threads: number) => void;
  private readonly workers: { terminate(): unknown }[];

  private constructor(readonly threads: number, memory: WebAssembly.Memory, instance: WebAssembly.Instance, workers: { terminate(): unknown }[]) {
    this.memory = memory;
    this.work = instance.exports.work as ThreadPool['work'];
    this.workers = workers;
  }

  /** Start `threads` - 1 workers on the shared-memory build of the kernels; null where threads cannot run here. */
  static async start(threads: number, module: WebAssembly.Module): Promise<ThreadPool | null> {
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const workers: { terminate(): unknown }[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = await spawnWorker(`(${workerMain.toString()})`, { module, memory, index, threads });
      if (!worker) {
        for (const w of workers) w.terminate();
        return null;
      }
      workers.push(worker);
    }
    return new ThreadPool(threads, memory, instance, workers);
  }

  /** The arena's bytes now (grown by ensure). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Grow the arena to hold at least `bytes` past the control block. */
  ensure(bytes: number): void {
    const needed = CONTROL_BYTES + bytes;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / 65536));
  }

  /** Run job `op` with integer `args` on every thread; returns when all are done. */
  run(op: number, args: number[]): void {
    const control = new Int32Array(this.memory.buffer, 0, CONTROL_BYTES / 4);
    control.set(args, ARGS);
    control[OP] = op;
    Atomics.store(control, DONE, 0);
    Atomics.add(control, GEN, 1);
    Atomics.notify(control, GEN);
    this.work(0, 0, this.threads);
    const others = this.threads - 1;
    for (let done = Atomics.load(control, DONE); done < others; done = Atomics.load(control, DONE)) {
      Atomics.wait(control, DONE, done);
    }
  }

  /** Stop the workers. */
  stop(): void {
    const control = new Int32Array(this.memory.buffer, 0, CONTROL_BYTES / 4);
    control[OP] = STOP;
    Atomics.add(control, GEN, 1);
    Atomics.notify(control, GEN);
    for (const w of this.workers) w.terminate();
  }
}
