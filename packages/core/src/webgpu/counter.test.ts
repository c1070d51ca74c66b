// countWebGPU counts at the WebGPU API itself (Dawn on SwiftShader in Node):
// one element-wise op on a tensor on the GPU is one dispatch, reading a tensor back is one mapAsync.
import { describe, expect, it } from 'vitest';
import { onBackend, skipWebGPU } from '../testing.js';
import { tf } from '../tf.js';
import { countWebGPU } from './counter.js';

describe.skipIf(skipWebGPU)('countWebGPU', () => {
  it('counts one dispatch per element-wise op, by kernel, and one read-back per data()', async () => {
    await onBackend('webgpu', async () => {
      // 2,000 elements: tfjs's webgpu backend computes tensors under 1,000 on the CPU.
      const n = 2000;
      const a = tf.range(0, n);
      const b = tf.fill([n], 3);
      const { result, counts } = await countWebGPU(async () => {
        const sum = tf.add(a, b);
        const product = tf.mul(sum, a);
        const values = await product.data();
        tf.dispose([sum, product]);
        return Array.from(values.slice(0, 3));
      });
      expect(result).toEqual([0, 4, 10]); // (i + 3) · i
      expect(counts.dispatches).toBe(2);
      expect(counts.byKernel).toEqual({ Add: 1, Multiply: 1 });
      expect(counts.readBacks).toBe(1);
      expect(counts.submits).toBeGreaterThanOrEqual(1); // data() flushes the batch tfjs deferred
      tf.dispose([a, b]);
    });
  }, 120_000);

  it('refuses to count off webgpu, and refuses a count inside a count', async () => {
    await onBackend('cpu', async () => {
      await expect(countWebGPU(() => 1)).rejects.toThrow('countWebGPU needs the webgpu backend (tfjs is on cpu)');
    });
    await onBackend('webgpu', async () => {
      await expect(countWebGPU(() => countWebGPU(() => 1))).rejects.toThrow('countWebGPU: a count is already running');
    });
  }, 120_000);
});
