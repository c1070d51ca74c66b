// What the backend the page runs on says it can hold (lib/memory.ts asks).
//   webgpu: the adapter's largest buffer (tfjs binds every tensor as one
//           storage buffer); WebGPU does not report the memory it has.
//   wasm:   the module's heap, at most 4 GiB (65,536 pages of 64 KiB, the
//           maximum in tfjs-backend-wasm 4.22's memory section).
//   webgl:  the largest texture (MAX_TEXTURE_SIZE squared, 4 bytes a texel).
//   cpu:    the JavaScript heap, where Chrome reports it.
// `?memory=` (e.g. 200MB) caps the total, to try a smaller machine.
import { tf } from '@tx/core';
import type { Budget } from '../lib/memory.js';

export const WASM_HEAP_MAX = 65_536 * 65_536;

export function backendBudget(cap: number | null = null): Budget {
  const backend = tf.getBackend();
  const budget: Budget = { total: null, tensor: null, totalFrom: `the ${backend} backend`, tensorFrom: `the ${backend} backend` };
  if (backend === 'webgpu') {
    const limits = (tf.backend() as unknown as { device?: { limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number } } }).device?.limits;
    if (limits) Object.assign(budget, { tensor: Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize), tensorFrom: 'this WebGPU adapter' });
  } else if (backend === 'wasm') {
    Object.assign(budget, { total: WASM_HEAP_MAX, totalFrom: `the wasm backend's heap` });
  } else if (backend === 'webgl') {
    const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    Object.assign(budget, { tensor: side * side * 4, tensorFrom: `WebGL's largest texture (${side} × ${side})` });
  } else if (backend === 'cpu') {
    const heap = (performance as Performance & { memory?: { jsHeapSizeLimit: number } }).memory?.jsHeapSizeLimit ?? null;
    Object.assign(budget, { total: heap, totalFrom: "this browser's JavaScript heap" });
  }
  if (cap !== null && (budget.total === null || cap < budget.total)) Object.assign(budget, { total: cap, totalFrom: 'what this page may use (?memory=)' });
  return budget;
}
