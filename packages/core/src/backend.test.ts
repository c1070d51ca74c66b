import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { BackendError } from './errors.js';
import { maxAbsDifference, onBackend } from './testing.js';
import { tf } from './tf.js';

describe('initBackend', () => {
  it.each(['cpu', 'wasm'] as const)('starts %s when asked and reports it', async (name) => {
    const info = await initBackend({ prefer: name });
    expect(info).toEqual({ backend: name, adapter: null, fellBackFrom: null, reason: null });
    expect(tf.getBackend()).toBe(name);
  });

  it('auto reports the backend tfjs is really on, and why it fell back', async () => {
    const info = await initBackend();
    expect(tf.getBackend()).toBe(info.backend);
    if (info.backend !== 'webgpu') {
      expect(info.fellBackFrom).toBe('webgpu');
      expect(info.reason).toMatch(/\w/);
    }
    // On this project's machines the only adapter is SwiftShader, which auto declines for wasm.
    if (info.fellBackFrom === 'webgpu' && /software/.test(info.reason ?? '')) expect(info.backend).toBe('wasm');
  });

  it('gives gradients and chained ops without extra imports', async () => {
    await initBackend({ prefer: 'wasm' });
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((t: tf.Tensor) => t.square().div(tf.scalar(2)).sum())(x);
    expect(Array.from(await g.data())).toEqual([1, 2, 3]);
    tf.dispose([x, g]);
  });

  it('rejects an unknown backend name', async () => {
    await expect(initBackend({ prefer: 'tpu' as never })).rejects.toThrow(BackendError);
    await expect(initBackend({ prefer: 'tpu' as never })).rejects.toThrow('unknown backend "tpu"');
  });

  it('throws, naming the reason, when a named backend cannot start', async () => {
    // webgl needs a browser (or headless-gl); in Node it cannot start.
    await expect(initBackend({ prefer: 'webgl' })).rejects.toThrow(/backend "webgl" could not start: /);
  });

  it('onBackend explains a backend that cannot start instead of comparing nothing', async () => {
    await expect(onBackend('webgl', async () => 1)).rejects.toThrow(/^webgl could not start, so parity cannot be checked: backend "webgl" could not start/);
    expect(await onBackend('cpu', async () => tf.getBackend())).toBe('cpu');
    expect(maxAbsDifference([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(() => maxAbsDifference([1], [1, 2])).toThrow('lengths differ: 1 vs 2');
  });
});
