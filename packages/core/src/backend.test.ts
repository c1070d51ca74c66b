import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { findLibrary, gpuDeviceNodes } from './platform.node.js';
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

  it.runIf(process.platform === 'linux')('auto leaves Dawn unloaded where there is no GPU device node', async () => {
    const nodes = await gpuDeviceNodes();
    const info = await initBackend();
    if (nodes.length > 0) return; // a GPU machine: auto may well use it
    expect(info).toEqual({
      backend: 'wasm',
      adapter: null,
      fellBackFrom: 'webgpu',
      reason: 'no GPU device here (no /dev/dri/renderD*, /dev/nvidia*, /dev/dxg), so WebGPU could only be a CPU emulation, slower than wasm',
    });
    expect((globalThis.navigator as { gpu?: unknown } | undefined)?.gpu).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('finds a shared library as the dynamic linker would, from LD_LIBRARY_PATH too', async () => {
    expect(await findLibrary('libc.so.6')).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'tx-lib-'));
    expect(await findLibrary('libtx-nothing.so.1')).toBe(false);
    writeFileSync(join(dir, 'libtx-nothing.so.1'), '');
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = `/nonexistent:${dir}`;
    try {
      expect(await findLibrary('libtx-nothing.so.1')).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
    expect(readdirSync(dir)).toEqual(['libtx-nothing.so.1']);
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
    // webgl needs a browser; in Node it cannot start.
    await expect(initBackend({ prefer: 'webgl' })).rejects.toThrow('backend "webgl" could not start: WebGL needs a browser (tfjs-backend-webgl registers itself only there)');
  });

  it('onBackend explains a backend that cannot start instead of comparing nothing', async () => {
    await expect(onBackend('webgl', async () => 1)).rejects.toThrow(/^webgl could not start, so parity cannot be checked: backend "webgl" could not start/);
    expect(await onBackend('cpu', async () => tf.getBackend())).toBe('cpu');
    expect(maxAbsDifference([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(() => maxAbsDifference([1], [1, 2])).toThrow('lengths differ: 1 vs 2');
  });
});
