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

/** The threads this page may run at once (navigator.hardwareConcurrency; 1 where it is not told). */
export function availableCores(): number {
  return globalThis.navigator?.hardwareConcurrency || 1;
}

/**
 * A Web Worker running `main(data, ready)` from its source (a blob: URL, so it
 * needs no file of its own in any bundler); resolves once it called ready().
 * Null where a pool cannot share memory with it: no Worker, or a page that is
 * not cross-origin isolated (no SharedArrayBuffer).
 */
export function spawnWorker(main: string, data: unknown): Promise<{ terminate(): unknown } | null> {
  const g = globalThis as { Worker?: typeof Worker; crossOriginIsolated?: boolean };
  if (!g.Worker || typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false) return Promise.resolve(null);
  const source = `onmessage = (event) => { onmessage = null; (${main})(event.data, () => postMessage('ready')); };`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new g.Worker(url);
  return new Promise((resolve) => {
    worker.onmessage = () => {
      URL.revokeObjectURL(url);
      resolve(worker);
    };
    worker.onerror = () => {
      URL.revokeObjectURL(url);
      worker.terminate();
      resolve(null);
    };
    worker.postMessage(data);
  });
}
