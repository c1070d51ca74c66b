// siluGate against hand-computed values and against tfjs's own ops and
// autodiff, with @tx's wasm kernel and without.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { useKernels } from '../kernels/install.js';
import { Rng } from '../rng.js';
import { maxAbsDifference } from '../testing.js';
import { tf } from '../tf.js';
import { siluGate } from './silu-gate.js';

describe('siluGate', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await useKernels(true);
    await initBackend({ prefer: 'cpu' });
  });

  it.each([true, false])('gives silu(gate) · up for hand-computed values (kernels on: %s)', async (on) => {
    expect((await useKernels(on)).active).toBe(on);
    // silu(0) = 0; silu(1) = 1 / (1 + e⁻¹) = 0.7310586; silu(-2) = -2 / (1 + e²) = -0.2384058;
    // silu(3) = 3 / (1 + e⁻³) = 2.8577223; silu(-100) underflows to -0. Five values: a vector of 4 and a tail of 1.
    const y = siluGate(tf.tensor1d([0, 1, -2, 3, -100]), tf.tensor1d([5, 2, -1, 0.5, 7]));
    expect(maxAbsDifference(await y.data(), [0, 1.4621172, 0.2384058, 1.4288612, 0])).toBeLessThan(1e-6);
  });

  it('has the gradients of tfjs autodiff through sigmoid, for [3, 7] (kernels on)', async () => {
    await useKernels(true);
    const rng = new Rng(5);
    const draw = () => tf.tensor2d(Array.from({ length: 21 }, () => 3 * rng.normal()), [3, 7]);
    const [gate, up, dy] = [draw(), draw(), draw()];
    const loss = (f: (g: tf.Tensor, u: tf.Tensor) => tf.Tensor) => (g: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(f(g, u), dy));
    const reference = (g: tf.Tensor, u: tf.Tensor) => tf.mul(tf.mul(g, tf.sigmoid(g)), u);
    const [dg, du] = tf.grads(loss(siluGate))([gate, up]);
    const [rg, ru] = tf.grads(loss(reference))([gate, up]);
    expect(maxAbsDifference(await siluGate(gate, up).data(), await reference(gate, up).data())).toBeLessThan(1e-5);
    expect(maxAbsDifference(await dg.data(), await rg.data())).toBeLessThan(1e-5);
    expect(maxAbsDifference(await du.data(), await ru.data())).toBeLessThan(1e-5);
  });
});
