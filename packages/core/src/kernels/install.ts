// Turning @tx/core's wasm kernels on and off, and the one way to run them.
//
// The op files of src/ops/ add their kernels here as they load (addWasmKernel:
// a new tfjs kernel name, or a replacement of tfjs-wasm's kernel of the same
// name, so that every model, gradient and optimizer that calls tf.matMul
// runs ours with no change); initBackend('wasm') puts them in tfjs's
// registry. Every kernel job then runs through run(job). TX_KERNELS=off (or
// useKernels(false)) puts tfjs's own kernels back: the plain path stays one
// flag away, for tests and comparisons.
import { ValueError } from '../errors.js';
import { tf } from '../tf.js';
import { availableCores, enableRelaxedSimd } from '#platform';
import { concatConfig, gatherConfig, splitVConfig } from './copies.js';
import { identityConfig } from './identity.js';
import type { Job } from './jobs.generated.js';
import { ThreadPool, runJob, type SharedHeap } from './pool.js';
import { compileShared, instantiateKernels, wasmMemory, type KernelModule, type KernelSimd, type WasmBackend } from './wasm.js';

/** Whether @tx/core's wasm kernels are in use, and how they were built. */
export interface KernelsInfo {
  /** True when tfjs's wasm kernels are replaced by ours. */
  active: boolean;
  /** The instruction set the kernels run: relaxed-SIMD FMA where the engine has it, else SIMD128; null when off. */
  simd: KernelSimd | null;
  /** The tfjs kernels replaced, by name. */
  replaced: string[];
  /** The fused kernels added (GELU, LayerNorm, AdamW, cross-entropy, attention in both layouts), by name. */
  fused: string[];
  /** Threads that large products, GELU and attention heads are split between (1: the calling thread only). */
  threads: number;
  /** The threads asked for (the option, else TX_THREADS, else 1): more than `threads` where this machine has fewer cores. */
  threadsAsked: number;
  /** Why they are off, or null when active. */
  reason: string | null;
}

type KernelConfig = ReturnType<typeof tf.getKernelsForBackend>[number];

/** An op's wasm kernel: a new tfjs kernel, or one replacing tfjs-wasm's kernel of that name (given the original, its fallback). */
export interface WasmKernel {
  kernelName: string;
  make(original: KernelConfig | null): KernelConfig;
}

/** tfjs-wasm kernels that only move bytes, replaced by copies and a shared Identity (copies.ts, identity.ts). */
const byteMovers: WasmKernel[] = [
  { kernelName: tf.Identity, make: (o) => identityConfig(o!) },
  { kernelName: tf.SplitV, make: (o) => splitVConfig(o!) },
  { kernelName: tf.Concat, make: (o) => concatConfig(o!) },
  { kernelName: tf.GatherV2, make: (o) => gatherConfig(o!) },
];
/** The op files' kernels (src/ops/), in the order they were added. */
const opKernels: WasmKernel[] = [];

let module: KernelModule | null = null;
let moduleBackend: unknown = null;
let originals: KernelConfig[] = [];
let added: KernelConfig[] = [];
let pool: ThreadPool | null = null;
/** The backend whose memory the pool was started beside (or on). */
let poolBackend: WasmBackend | null = null;
let reason: string | null = 'the backend is not wasm';
let threadsAsked = 1;

/**
 * The most threads the kernels may be asked for. Each job waits for its
 * slowest thread, so threads beyond the cores only wait on each other, and
 * every worker costs memory: on 2 cores a pool of 400 took 84 s and 3.3 GB
 * just to start (`tx sample` with 400 never seemed to finish; with 2,000 it
 * printed nothing). Asking for more is refused; asking for more than the
 * cores gets the cores.
 */
export const MAX_THREADS = 64;

/** True while our kernels are registered (cheap: called by every fused op). */
export function kernelsActive(): boolean {
  return originals.length > 0 && tf.getBackend() === 'wasm';
}

/** What TX_KERNELS says: 'off' disables the kernels (read from the environment where there is one). */
function disabledByEnv(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TX_KERNELS === 'off';
}

/** The loaded kernel module (exports and shared scratch) and the backend it runs on, while the kernels are on. */
export function loadedKernels(): { exports: KernelModule['exports']; scratch: KernelModule['scratch']; backend: WasmBackend } | null {
  return kernelsActive() && module ? { exports: module.exports, scratch: module.scratch, backend: moduleBackend as WasmBackend } : null;
}

/**
 * Run a kernel job (the builders of jobs.generated.ts make them), the one
 * call path of every kernel: on the pool's threads when `pooled` and there is
 * a pool, else on this thread. Only while the kernels are on.
 */
export function run(job: Job, pooled = false): void {
  const backend = moduleBackend as WasmBackend | null;
  if (!module || !backend) throw new Error(`kernel ${job.name} called while @tx's wasm kernels are off`);
  runJob(pooled ? pool : null, module, () => backend.wasm.HEAPU8, job);
}

/** Add an op's wasm kernel (the files of src/ops/ call this as they load); put in tfjs's registry at once if the kernels are on. */
export function addWasmKernel(kernel: WasmKernel): void {
  opKernels.push(kernel);
  if (originals.length > 0) install(kernel);
}

/** The kernels' state now. */
export function kernelsInfo(): KernelsInfo {
  const active = originals.length > 0;
  return {
    active,
    simd: active ? module!.simd : null,
    replaced: originals.map((k) => k.kernelName),
    fused: added.map((k) => k.kernelName),
    threads: active ? (pool?.threads ?? 1) : 1,
    threadsAsked,
    reason: active ? null : reason,
  };
}

/** Options of useKernels. */
export interface UseKernelsOptions {
  /**
   * Threads for large products, GELU and attention heads, the calling one included (default: TX_THREADS, else 1):
   * an integer from 1 to MAX_THREADS (64), of which at most this machine's cores are started.
   * In Node they are worker threads; in browsers, Web Workers on cross-origin-isolated pages
   * (COOP and COEP headers; elsewhere one thread runs).
   */
  threads?: number;
}

/**
 * Use @tx/core's wasm kernels (true) or tfjs's own (false) from now on. Needs the
 * wasm backend to be current for `true`; returns the resulting state.
 */
export async function useKernels(on: boolean, options: UseKernelsOptions = {}): Promise<KernelsInfo> {
  const asked = options.threads ?? threadsFromEnv();
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_THREADS) throw new ValueError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${asked}`);
  const threads = Math.min(asked, availableCores());
  threadsAsked = asked;
  restoreOriginals();
  if (!on) {
    pool?.stop();
    pool = null;
    reason = 'turned off (TX_KERNELS=off or useKernels(false))';
    return kernelsInfo();
  }
  if (tf.getBackend() !== 'wasm') {
    reason = `the backend is ${tf.getBackend()}, not wasm`;
    return kernelsInfo();
  }
  const backend = tf.backend() as unknown as WasmBackend;
  if (module === null || moduleBackend !== backend) {
    try {
      module = await instantiateKernels(backend, enableRelaxedSimd());
    } catch (err) {
      module = null;
      reason = `the kernels could not start, tfjs's own run: ${(err as Error).message}`;
      return kernelsInfo();
    }
    moduleBackend = backend;
  }
  if ((pool?.threads ?? 1) !== threads || poolBackend !== backend) {
    pool?.stop();
    pool = threads > 1 ? await ThreadPool.start(threads, await compileShared(module.simd), sharedHeap(backend)) : null;
    poolBackend = backend;
  }
  await import('../ops/all.generated.js'); // every op file, so that each has added its kernels (a static import would be a cycle)
  for (const kernel of [...byteMovers, ...opKernels]) install(kernel);
  return kernelsInfo();
}

/** Put one kernel in tfjs's registry: over tfjs-wasm's kernel of that name (kept, to restore), or under a new name. */
function install({ kernelName, make }: WasmKernel): void {
  const original = (tf.getKernel(kernelName, 'wasm') as KernelConfig | undefined) ?? null;
  if (original) {
    tf.unregisterKernel(kernelName, 'wasm');
    originals.push(original);
  }
  const config = make(original);
  tf.registerKernel(config);
  if (!original) added.push(config);
}

/** tfjs-wasm's memory and allocator when the memory is shared (its threaded build): the pool then works on it. */
function sharedHeap(backend: WasmBackend): SharedHeap | null {
  const memory = wasmMemory(backend);
  if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  return { memory, malloc: (bytes) => backend.wasm._malloc(bytes) >>> 0, free: (offset) => backend.wasm._free(offset) };
}

function threadsFromEnv(): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.TX_THREADS;
  if (!raw) return 1;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN; // decimal digits only: not "0x10", " 4", "1e1"
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new ValueError(`TX_THREADS must be an integer from 1 to ${MAX_THREADS}, got "${raw}"`);
  return n;
}

/** Called by initBackend once the backend is chosen. */
export async function installKernelsFor(backend: string, options: UseKernelsOptions = {}): Promise<KernelsInfo> {
  if (backend !== 'wasm') {
    restoreOriginals();
    reason = `the backend is ${backend}, not wasm`;
    return kernelsInfo();
  }
  return useKernels(!disabledByEnv(), options);
}

function restoreOriginals(): void {
  for (const original of originals) {
    tf.unregisterKernel(original.kernelName, 'wasm');
    tf.registerKernel(original);
  }
  originals = [];
  for (const config of added) tf.unregisterKernel(config.kernelName, 'wasm');
  added = [];
}
