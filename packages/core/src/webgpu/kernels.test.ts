// @tx's WGSL kernels on tfjs's webgpu backend (Dawn on SwiftShader in Node)
// against PyTorch (tooling/fixtures/kernels.py, the wasm kernels' fixture) to
// 1e-4, outputs and gradients, and the dispatches each takes, counted at the
// WebGPU API: the cases of test/webgpu-parity.ts, which the browser test
// (apps/demo/test/webgpu-parity.test.ts) runs in Chromium too. Below them, what
// only Node checks: adamW's norm over many gradients and its skipped step, and
// crossEntropy's out-of-range and ignored targets. Shapes stay small:
// SwiftShader is a CPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import * as core from '../index.js';
import { adamW } from '../ops/adam-w.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { maxAbsDifference, skipWebGPU } from '../testing.js';
import { kernelsFixture } from '../../test/kernels-fixture.js';
import { expectParity, webgpuParityCases } from '../../test/webgpu-parity.js';
import { tf } from '../tf.js';
import { countWebGPU } from './counter.js';
import { useWebGPUKernels } from './switch.js';

const values = async (t: tf.Tensor) => Array.from(await t.data());

describe.skipIf(skipWebGPU)('the WGSL kernels on webgpu', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
  }, 120_000);
  afterAll(() => useWebGPUKernels(true));

  for (const c of webgpuParityCases({ ...core, maxAbsDifference }, kernelsFixture)) {
    it(c.name, async () => expectParity(expect, await c.run()), 120_000);
  }

  it('adamW chains the norm over groups of 7 gradients, and skips the step (values unchanged) when the norm is not finite', async () => {
    const n = 17;
    const slots = Array.from({ length: n }, (_, i) => ({ param: tf.fill([3], i), m: tf.zeros([3]), v: tf.zeros([3]), grad: tf.fill([3], i === 5 ? 2 : 0), decay: 1 }));
    const step = { beta1: 0.9, beta2: 0.99, eps: 1e-8, correction2: 0.01, stepSize: 1 }; // t = 1, lr 0.1: stepSize = lr / (1 - beta1)
    const { result, counts } = await countWebGPU(() => adamW(slots, step, 1));
    expect(counts.byKernel).toEqual({ TxAdamWUpdate: 17, TxSumOfSquares: 3 }); // 7 + 6 + 4 gradients
    expect((await result.norm!.data())[0]).toBeCloseTo(Math.sqrt(12), 5);
    // Parameter 5 moves by lr (m̂ / √v̂ = 1 at the first step), against its gradient's sign; the others keep their value.
    for (const p of await values(result.params[5])) expect(p).toBeCloseTo(4.9, 5);
    expect(await values(result.params[4])).toEqual([4, 4, 4]);
    slots[2].grad = tf.tensor1d([NaN, 0, 0]);
    const skipped = adamW(slots, step, 1);
    expect(await values(skipped.params[5])).toEqual([5, 5, 5]);
    expect(await values(skipped.m[5])).toEqual([0, 0, 0]);
  }, 120_000);

  it('crossEntropy is NaN for a target out of range (checking would read the ids back), 0 when every row is ignored', async () => {
    const x = tf.tensor2d([[1, 2, 3], [0, 0, 1]]);
    expect((await crossEntropy(x, tf.tensor1d([0, 3], 'int32')).data())[0]).toBeNaN();
    const ignored = tf.tensor1d([5, 5], 'int32');
    expect((await crossEntropy(x, ignored, { ignoreIndex: 5 }).data())[0]).toBe(0);
    expect(await values(tf.grad((l: tf.Tensor) => crossEntropy(l, ignored, { ignoreIndex: 5 }))(x))).toEqual([0, 0, 0, 0, 0, 0]);
  }, 120_000);
});
