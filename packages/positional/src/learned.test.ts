import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, initBackend, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { LearnedPositionalEmbedding } from './learned.js';
import { alibiBias, alibiSlopes } from './alibi.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('LearnedPositionalEmbedding', () => {
  it('is nanoGPT wpe: a [blockSize, dModel] "weight" sliced by position, with gradients on wasm', async () => {
    const wpe = new LearnedPositionalEmbedding(8, 4, { rng: new Rng(0) });
    expect(wpe.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([['weight', [8, 4]]]);
    const all = (await wpe.weight.array()) as number[][];
    expect(await wpe.forward(3, 2).array()).toEqual(all.slice(2, 5));
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(wpe.forward(3, 4)) as tf.Scalar, [wpe.weight]);
      const g = grads[wpe.weight.name].arraySync() as number[][];
      expect(g.map((r) => r[0])).toEqual([0, 0, 0, 0, 1, 1, 1, 0]);
      tf.dispose([value, ...Object.values(grads)]);
    }, { warmup: 1 });
    expect(() => wpe.forward(5, 4)).toThrow(ShapeError);
    expect(() => wpe.forward(5, 4)).toThrow('positions 4..8 are outside the table of 8 positions');
    wpe.dispose();
  });
});

describe('ALiBi', () => {
  it('slopes follow the paper (powers of two) and the authors\' rule otherwise', () => {
    expect(alibiSlopes(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => Math.pow(2, -i)));
    expect(alibiSlopes(4)).toEqual([0.25, 0.0625, 0.015625, 0.00390625]);
    // 6 heads: the 4 slopes of n=4, then slopes 1 and 3 (0-based 0, 2) of n=8.
    expect(alibiSlopes(6)).toEqual([0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125]);
  });

  it('bias[h, i, j] = -slope_h * |i - j|, queries aligned to the end of the keys', async () => {
    const b = alibiBias(2, 2, 4); // queries at positions 2 and 3
    const [s0, s1] = alibiSlopes(2);
    expect(await b.array()).toEqual([
      [[-2 * s0, -s0, -0, -s0], [-3 * s0, -2 * s0, -s0, -0]],
      [[-2 * s1, -s1, -0, -s1], [-3 * s1, -2 * s1, -s1, -0]],
    ]);
    b.dispose();
    expect(() => alibiSlopes(0)).toThrow(ShapeError);
  });
});
