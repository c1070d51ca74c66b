// RMSNorm against a hand-computed row and against central differences of a
// float64 reference, with @tx's wasm kernel and with tfjs's ops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { kernelsInfo, useKernels } from '../kernels/install.js';
import { Rng } from '../rng.js';
import { expectNoLeak, maxAbsDifference } from '../testing.js';
import { tf } from '../tf.js';
import { rmsNorm } from './rms-norm.js';

/** Σ y · g for x [N, C] in float64: the loss whose gradient is checked. */
function loss(x: number[], w: number[], g: number[], C: number, eps: number): number {
  let total = 0;
  for (let r = 0; r < x.length / C; r++) {
    const row = x.slice(r * C, (r + 1) * C);
    const rstd = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / C + eps);
    row.forEach((v, c) => (total += v * rstd * w[c] * g[r * C + c]));
  }
  return total;
}

/** Central differences of loss along every element of `which` (x or w). */
function numericGrad(x: number[], w: number[], g: number[], C: number, eps: number, which: 'x' | 'w'): number[] {
  const h = 1e-4;
  const base = which === 'x' ? x : w;
  return base.map((_, i) => {
    const at = (d: number) => {
      const moved = [...base];
      moved[i] += d;
      return which === 'x' ? loss(moved, w, g, C, eps) : loss(x, moved, g, C, eps);
    };
    return (at(h) - at(-h)) / (2 * h);
  });
}

describe('rmsNorm', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each([true, false])('normalises a hand-computed row (kernels on: %s)', async (on) => {
    expect((await useKernels(on)).active).toBe(on);
    // mean(x²) = (1 + 4 + 9 + 16 + 25) / 5 = 11, so y = x w / √11 (√11 = 3.3166248); 5 columns: a vector of 4 and a tail of 1.
    const y = rmsNorm(tf.tensor2d([[1, 2, 3, 4, 5]]), tf.tensor1d([1, 0.5, 2, -1, 3]), 0);
    expect(maxAbsDifference(await y.data(), [0.3015113, 0.3015113, 1.8090681, -1.2060454, 4.5226702])).toBeLessThan(1e-6);
    await useKernels(true);
  });

  it.each([true, false])('has the gradient of central differences, for x [3, 6] and the gain (kernels on: %s)', async (on) => {
    await useKernels(on);
    const rng = new Rng(8);
    const [N, C, eps] = [3, 6, 1e-5];
    const draw = (n: number) => Array.from({ length: n }, () => rng.normal());
    const [x, w, g] = [draw(N * C), draw(C), draw(N * C)];
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rmsNorm(a, b, eps), tf.tensor2d(g, [N, C]))))([tf.tensor2d(x, [N, C]), tf.tensor1d(w)]);
    expect(maxAbsDifference(await dx.data(), numericGrad(x, w, g, C, eps, 'x'))).toBeLessThan(1e-4);
    expect(maxAbsDifference(await dw.data(), numericGrad(x, w, g, C, eps, 'w'))).toBeLessThan(1e-4);
    await useKernels(true);
  });

  it('runs as a wasm kernel when the kernels are on, and leaves no tensor behind', async () => {
    expect(kernelsInfo().fused).toEqual(expect.arrayContaining(['TxRMSNorm', 'TxRMSNormGrad']));
    const x = tf.randomNormal([4, 8, 12], 0, 1, 'float32', 2);
    const w = tf.ones([12]);
    await expectNoLeak(() => tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(rmsNorm(a, w, 1e-6)))([x])), { warmup: 1 });
    tf.dispose([x, w]);
  });
});
