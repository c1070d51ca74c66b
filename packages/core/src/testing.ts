// Test helpers for @tx packages and their users.
import { readFileSync } from 'node:fs';
import { initBackend, type BackendName } from './backend.js';
import { tf } from './tf.js';

/** Options of expectNoLeak. */
export interface NoLeakOptions {
  /** Calls of fn made before counting, for work that allocates caches on first use. */
  warmup?: number;
  /** Named in the failure message. */
  label?: string;
}

/**
 * Run fn and throw if it leaves tf.memory().numTensors changed. Works with
 * sync and async functions and returns what fn returned (which must not be a
 * tensor it created: return plain values).
 */
export async function expectNoLeak<T>(fn: () => T | Promise<T>, options: NoLeakOptions = {}): Promise<T> {
  for (let i = 0; i < (options.warmup ?? 0); i++) await fn();
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    const what = options.label ? ` in ${options.label}` : '';
    throw new Error(`tensor leak${what}: tf.memory().numTensors went from ${before} to ${after} (${after - before > 0 ? '+' : ''}${after - before})`);
  }
  return result;
}

/**
 * Run fn on the wasm backend and count the allocations JavaScript makes in
 * tfjs-wasm's heap (tensors, @tx's kernel caches and scratch) minus those it
 * frees: 0 means fn left the heap as it found it, whatever it replaced on the
 * way (a training step frees the old parameters and allocates the new ones).
 */
export async function wasmAllocations<T>(fn: () => Promise<T>): Promise<{ result: T; outstanding: number }> {
  if (tf.getBackend() !== 'wasm') throw new Error(`wasmAllocations needs the wasm backend, tfjs is on ${tf.getBackend()}`);
  const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
  const { _malloc: malloc, _free: free } = wasm;
  let outstanding = 0;
  wasm._malloc = (n) => {
    outstanding += 1;
    return malloc(n);
  };
  wasm._free = (p) => {
    outstanding -= 1;
    free(p);
  };
  try {
    return { result: await fn(), outstanding };
  } finally {
    Object.assign(wasm, { _malloc: malloc, _free: free });
  }
}

/**
 * WebGPU parity tests may be skipped only on purpose: TX_SKIP_WEBGPU=1, and
 * never in CI (CI=true), where a WebGPU that cannot start must fail the test.
 */
export const skipWebGPU = typeof process !== 'undefined' && process.env.TX_SKIP_WEBGPU === '1' && process.env.CI !== 'true';

/**
 * Switch to `backend` (software WebGPU adapters allowed), check tfjs is really
 * on it, and run `compute` there. If WebGPU cannot start, the error says why
 * and how to get it, instead of a parity test silently comparing nothing.
 */
export async function onBackend<T>(backend: BackendName, compute: () => Promise<T>): Promise<T> {
  let info;
  try {
    info = await initBackend({ prefer: backend, allowSoftwareWebGPU: true });
  } catch (err) {
    const hint = backend === 'webgpu' ? ' Install the Debian packages chromium and libvulkan1 (npm run setup does), or set TX_SKIP_WEBGPU=1 outside CI.' : '';
    throw new Error(`${backend} could not start, so parity cannot be checked: ${(err as Error).message}.${hint}`);
  }
  if (tf.getBackend() !== info.backend) throw new Error(`asked for ${backend}, but tfjs is on ${tf.getBackend()}`);
  return compute();
}

/** The largest |a[i] - b[i]|; throws if the lengths differ. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Nested arrays (a fixture's tensor) as one flat list of numbers; a number as a list of one. */
export function flatten(x: unknown): number[] {
  return (Array.isArray(x) ? x.flat(Infinity as 1) : [x]) as number[];
}

/** A JSON fixture file, parsed, from a URL (e.g. new URL('../test/fixtures/x.json', import.meta.url)). */
export function readFixture<T>(url: URL): T {
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}
