import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError, initBackend, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { crossEntropy } from './loss.js';

interface Case { ignoreIndex: number | null; labelSmoothing: number; logits: number[][]; targets: number[]; loss: number; grad: number[][] }
const reference = JSON.parse(readFileSync(join(import.meta.dirname, '../test/fixtures/reference.json'), 'utf8')) as { crossEntropy: Case[] };
const cases: Array<[string, Case]> = reference.crossEntropy.map((c) => [`ignoreIndex=${c.ignoreIndex} labelSmoothing=${c.labelSmoothing}`, c]);

describe.each(['cpu', 'wasm'] as const)('crossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('equals -log softmax of the target, computed by hand', async () => {
    // logits [0, ln 2, ln 5] -> softmax [1/8, 2/8, 5/8]; target 1 -> loss = ln 4.
    const loss = crossEntropy(tf.tensor2d([[0, Math.log(2), Math.log(5)]]), tf.tensor1d([1], 'int32'));
    expect((await loss.data())[0]).toBeCloseTo(Math.log(4), 6);
  });

  it('is stable for huge logits', async () => {
    const loss = crossEntropy(tf.tensor2d([[1000, 0], [-1000, 1000]]), tf.tensor1d([0, 0], 'int32'));
    expect((await loss.data())[0]).toBeCloseTo(1000, 3); // (0 + 2000) / 2
  });

  it.each(cases)(
    'matches PyTorch (%s): loss and gradient to 1e-5',
    async (_name, c) => {
      const logits = tf.tensor2d(c.logits);
      const targets = tf.tensor1d(c.targets, 'int32');
      const options = { ignoreIndex: c.ignoreIndex ?? undefined, labelSmoothing: c.labelSmoothing };
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, targets, options))([logits]);
      expect(Math.abs((await value.data())[0] - c.loss)).toBeLessThan(1e-5);
      const grad = (await grads[0].array()) as number[][];
      grad.forEach((row, i) => row.forEach((g, j) => expect(Math.abs(g - c.grad[i][j])).toBeLessThan(1e-5)));
      tf.dispose([logits, targets, value, ...grads]);
    },
  );

  it('accepts [B, T, V] logits with [B, T] targets', async () => {
    const logits = tf.zeros([2, 3, 4]);
    const loss = crossEntropy(logits, tf.zeros([2, 3], 'int32'));
    expect((await loss.data())[0]).toBeCloseTo(Math.log(4), 6);
  });

  it('is 0 with a zero gradient when every target is ignored', async () => {
    const logits = tf.tensor2d([[1, 2], [3, 4]]);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, tf.tensor1d([0, 0], 'int32'), { ignoreIndex: 0 }))([logits]);
    expect((await value.data())[0]).toBe(0);
    expect(Array.from(await grads[0].data()).map(Math.abs)).toEqual([0, 0, 0, 0]);
  });

  it('names mismatched shapes and wrong dtypes', () => {
    expect(() => crossEntropy(tf.zeros([2, 3, 5]), tf.zeros([2, 4], 'int32'))).toThrow(
      'crossEntropy: targets of shape [2, 4] do not match logits of shape [2, 3, 5] (expected [2, 3])',
    );
    expect(() => crossEntropy(tf.zeros([2, 5]), tf.zeros([2]))).toThrow('targets must be int32 ids, got float32');
    expect(() => crossEntropy(tf.zeros([2, 5]), tf.zeros([2], 'int32'), { labelSmoothing: 1 })).toThrow(ValueError);
    expect(() => crossEntropy(tf.zeros([2, 5]), tf.zeros([2], 'int32'), { labelSmoothing: 1 })).toThrow('crossEntropy: labelSmoothing must be in [0, 1), got 1');
  });

  it('leaks nothing, forward and backward', async () => {
    const logits = tf.randomNormal([4, 6]);
    const targets = tf.tensor1d([1, 2, 3, 0], 'int32');
    await expectNoLeak(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, targets, { ignoreIndex: 0, labelSmoothing: 0.1 }))([logits]);
      tf.dispose([value, ...grads]);
    });
    tf.dispose([logits, targets]);
  });
});
