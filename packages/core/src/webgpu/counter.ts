// What a computation costs at the WebGPU API, counted where the work is
// issued, not inferred from tfjs: compute dispatches
// (GPUComputePassEncoder.dispatchWorkgroups), queue submits (GPUQueue.submit)
// and buffer read-backs (GPUBuffer.mapAsync, each a stall until the GPU has
// drained). On a real GPU a small model is bound by these counts, not by its
// arithmetic; on SwiftShader (a CPU) they are the same numbers, so they can be
// measured and driven down without a GPU.
//
// Each dispatch is also attributed to the tfjs kernel that issued it (the
// innermost registered webgpu kernel running at the time): the table by op
// kind. The prototypes are wrapped once, on the first count, and the wrappers
// cost one comparison when nothing is being counted.
import { tf } from '../tf.js';

/** Dispatches, submits and read-backs of one counted computation, and the dispatches per tfjs kernel. */
export interface WebGPUCounts {
  dispatches: number;
  submits: number;
  readBacks: number;
  /** Dispatches per tfjs kernel name (e.g. Multiply, TxLayerNorm), most first. */
  byKernel: Record<string, number>;
}

let counting: WebGPUCounts | null = null;
const running: string[] = [];
const WRAPPED = Symbol('tx-counted');

/**
 * Run `fn` and count what it issues at the WebGPU API (the webgpu backend must
 * be on). Work that tfjs defers past `fn` (a submit of its last batch) is not
 * counted unless `fn` waits for it.
 */
export async function countWebGPU<T>(fn: () => T | Promise<T>): Promise<{ result: T; counts: WebGPUCounts }> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`countWebGPU needs the webgpu backend (tfjs is on ${tf.getBackend()})`);
  if (counting) throw new Error('countWebGPU: a count is already running');
  instrument();
  const counts: WebGPUCounts = { dispatches: 0, submits: 0, readBacks: 0, byKernel: {} };
  counting = counts;
  try {
    const result = await fn();
    const sorted = Object.entries(counts.byKernel).sort((a, b) => b[1] - a[1]);
    counts.byKernel = Object.fromEntries(sorted);
    return { result, counts };
  } finally {
    counting = null;
  }
}

/** Wrap the three WebGPU methods (once) and every webgpu kernel registered so far (new ones on later calls). */
function instrument(): void {
  const g = globalThis as unknown as Record<string, { prototype: Record<string | symbol, unknown> } | undefined>;
  wrapMethod(g.GPUComputePassEncoder, 'dispatchWorkgroups', () => {
    counting!.dispatches++;
    const kernel = running[running.length - 1] ?? '(outside a kernel)';
    counting!.byKernel[kernel] = (counting!.byKernel[kernel] ?? 0) + 1;
  });
  wrapMethod(g.GPUQueue, 'submit', () => counting!.submits++);
  wrapMethod(g.GPUBuffer, 'mapAsync', () => counting!.readBacks++);
  for (const config of tf.getKernelsForBackend('webgpu')) {
    const c = config as tf.KernelConfig & { [WRAPPED]?: true };
    if (c[WRAPPED]) continue;
    const inner = c.kernelFunc;
    c.kernelFunc = (args) => {
      running.push(c.kernelName);
      try {
        return inner(args);
      } finally {
        running.pop();
      }
    };
    c[WRAPPED] = true;
  }
}

function wrapMethod(cls: { prototype: Record<string | symbol, unknown> } | undefined, name: string, count: () => void): void {
  if (!cls) throw new Error(`countWebGPU: globalThis.${name}'s class is missing (is the webgpu backend on?)`);
  const proto = cls.prototype;
  const original = proto[name] as ((...a: unknown[]) => unknown) & { [WRAPPED]?: true };
  if (original[WRAPPED]) return;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (counting) count();
    return original.apply(this, args);
  };
  (wrapped as typeof original)[WRAPPED] = true;
  proto[name] = wrapped;
}
