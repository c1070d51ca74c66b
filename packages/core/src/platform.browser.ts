// Browsers' side of initBackend (`#platform` resolves here everywhere but
// Node): WebGPU and WebGL are tfjs backends that the page registers by
// importing them, so a page that never asks for them never bundles them.
//
//   import '@tensorflow/tfjs-backend-webgpu'; // npm install @tensorflow/tfjs-backend-webgpu
//   await initBackend(); // webgpu, else wasm
import type { Found } from './adapter.js';
import { adapterInfo } from './adapter.js';
import { tf } from './tf.js';

/** navigator.gpu's adapter, when tfjs's webgpu backend has been imported. */
export async function findWebGPU(_options: { explicit: boolean }): Promise<Found> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) return { ok: false, reason: 'this browser has no navigator.gpu' };
  if (!tf.findBackendFactory('webgpu')) {
    return { ok: false, reason: "tfjs's WebGPU backend is not loaded: install @tensorflow/tfjs-backend-webgpu and import it before initBackend" };
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ok: false, reason: 'the browser offers no WebGPU adapter' };
  return { ok: true, adapter: await adapterInfo(adapter) };
}

/** Null when tfjs's webgl backend is registered, else what to do. */
export async function loadWebGL(): Promise<string | null> {
  if (tf.findBackendFactory('webgl')) return null;
  return "tfjs's WebGL backend is not loaded: install @tensorflow/tfjs-backend-webgl and import it before initBackend";
}

/** Browsers decide by validating a module that uses relaxed SIMD (Chrome 114+ and Firefox have it). */
export function enableRelaxedSimd(): boolean {
  return true;
}

/**
 * Browsers get no kernel threads yet: the pool's caller waits with Atomics.wait, which a page's
 * main thread may not do. (A worker-hosted tfjs could; not done.)
 */
export async function spawnWorker(_main: string, _data: unknown): Promise<null> {
  return null;
}
