// rope against a hand-rotated vector and against tfjs's split/concat ops and
// their autodiff, with @tx's wasm kernel and without.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { useKernels } from '../kernels/install.js';
import { Rng } from '../rng.js';
import { maxAbsDifference } from '../testing.js';
import { tf } from '../tf.js';
import { rope } from './rope.js';

/** x · cos + rotateHalf(x) · sin in tfjs ops: the layout rope implements. */
function reference(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1);
  return tf.add(tf.mul(x, cos), tf.mul(tf.concat([x2, x1], -1), sin));
}

describe('rope', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await useKernels(true);
    await initBackend({ prefer: 'cpu' });
  });

  it.each([true, false])('rotates each channel pair by its row angle (kernels on: %s)', async (on) => {
    expect((await useKernels(on)).active).toBe(on);
    // d = 4, T = 2: row 0 at angle 0 (cos 1, sin 0) stays; row 1 turns pair (x0, x2) by 90° and pair (x1, x3) by 180°:
    // (1, 2, 3, 4) -> (cos·x0 - sin·x2, cos·x1 - sin·x3, cos·x2 + sin·x0, cos·x3 + sin·x1) = (-3, -2, 1, -4).
    const cos = tf.tensor2d([[1, 1, 1, 1], [0, -1, 0, -1]]);
    const sin = tf.tensor2d([[0, 0, 0, 0], [-1, 0, 1, 0]]);
    const y = rope(tf.tensor3d([[[1, 2, 3, 4], [1, 2, 3, 4]]]), cos, sin);
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, -3, -2, 1, -4]);
  });

  it('matches the tfjs ops and their gradient for x [2, 3, 5, 6] (kernels on)', async () => {
    await useKernels(true);
    const rng = new Rng(3);
    const draw = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()), shape);
    const [x, cos, sin, dy] = [draw([2, 3, 5, 6]), draw([5, 6]), draw([5, 6]), draw([2, 3, 5, 6])];
    const grad = (f: typeof rope) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t, cos, sin), dy)))(x);
    expect(maxAbsDifference(await rope(x, cos, sin).data(), await reference(x, cos, sin).data())).toBeLessThan(1e-6);
    expect(maxAbsDifference(await grad(rope).data(), await grad(reference).data())).toBeLessThan(1e-6);
  });

  it('names the shapes when the tables do not fit x', () => {
    expect(() => rope(tf.zeros([1, 3, 4]), tf.zeros([2, 4]), tf.zeros([2, 4]))).toThrow('rope: x must be [..., T, d] with d even and cos, sin [3, 4], found x [1, 3, 4], cos [2, 4], sin [2, 4]');
  });
});
