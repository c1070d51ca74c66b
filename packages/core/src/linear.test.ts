import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Linear, matMul2d } from './linear.js';
import { Rng } from './rng.js';
import { ShapeError } from './errors.js';
import { expectNoLeak } from './testing.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('matMul2d', () => {
  it('computes a hand-checked product', async () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6, 7], [8, 9, 10]]);
    expect(await matMul2d(a, b).array()).toEqual([[21, 24, 27], [47, 54, 61]]);
  });

  it('has the gradients of tf.matMul and of finite differences', async () => {
    const rng = new Rng(5);
    const a = tf.tensor2d(Array.from({ length: 12 }, () => rng.normal()), [3, 4]);
    const b = tf.tensor2d(Array.from({ length: 20 }, () => rng.normal()), [4, 5]);
    const c = tf.tensor2d(Array.from({ length: 15 }, () => rng.normal()), [3, 5]);
    // A scalar loss that weights every output differently, so every gradient entry matters.
    const loss = (mm: typeof matMul2d) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x as tf.Tensor2D, y as tf.Tensor2D), c));
    const [ga, gb] = tf.grads(loss(matMul2d))([a, b]);
    const [ra, rb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    expect(Array.from(await ga.data())).toEqual(Array.from(await ra.data()));
    expect(Array.from(await gb.data())).toEqual(Array.from(await rb.data()));

    // Central differences in float64 on the host: loss(a) = sum((a b) * c).
    const [A, B, C] = [await a.array(), await b.array(), await c.array()] as number[][][];
    const f = (M: number[][]) => {
      let total = 0;
      for (let i = 0; i < M.length; i++)
        for (let j = 0; j < C[0].length; j++)
          for (let k = 0; k < B.length; k++) total += M[i][k] * B[k][j] * C[i][j];
      return total;
    };
    const h = 1e-6;
    const gaValues = (await ga.array()) as number[][];
    for (const [i, k] of [[0, 0], [1, 3], [2, 1]]) {
      const plus = A.map((r) => [...r]);
      const minus = A.map((r) => [...r]);
      plus[i][k] += h;
      minus[i][k] -= h;
      expect(gaValues[i][k]).toBeCloseTo((f(plus) - f(minus)) / (2 * h), 4);
    }
  });
});

describe('Linear', () => {
  it('computes x W + b over the last axis of a 3-D input', async () => {
    const layer = new Linear(2, 3, { rng: new Rng(0) });
    layer.weight.assign(tf.tensor2d([[1, 0, -1], [2, 1, 0]]));
    layer.bias!.assign(tf.tensor1d([0.5, 0, 0]));
    const x = tf.tensor3d([[[1, 1]], [[0, 2]]]);
    expect(await layer.forward(x).array()).toEqual([[[3.5, 1, -1]], [[4.5, 2, 0]]]);
    layer.dispose();
  });

  it('is initialised from the seed, the same every time', async () => {
    const a = new Linear(8, 8, { rng: new Rng(9) });
    const b = new Linear(8, 8, { rng: new Rng(9) });
    expect(Array.from(await a.weight.data())).toEqual(Array.from(await b.weight.data()));
    a.dispose();
    b.dispose();
  });

  it('names the bad input shape', () => {
    const layer = new Linear(4, 2, { rng: new Rng(0), bias: false });
    expect(() => layer.forward(tf.zeros([3, 5]))).toThrow(ShapeError);
    expect(() => layer.forward(tf.zeros([3, 5]))).toThrow("Linear(4 -> 2): input's last axis is 5, shape [3, 5]");
    layer.dispose();
  });

  it('forward and backward leak nothing', async () => {
    const layer = new Linear(4, 4, { rng: new Rng(0) });
    const x = tf.ones([2, 3, 4]);
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.forward(x)) as tf.Scalar);
      value.dispose();
      tf.dispose(Object.values(grads));
    });
    x.dispose();
    layer.dispose();
  });
});
