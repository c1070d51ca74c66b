import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, initBackend, randomNormal, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { RotaryEmbedding, rotateVector as rotate } from './rotary.js';

const d = 8;
let rope: RotaryEmbedding;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  rope = new RotaryEmbedding(d, { maxLen: 16 });
});
afterAll(() => rope.dispose());

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('RotaryEmbedding', () => {
  it('rotateVector turns channel pairs (c, c + d/2) by pos · 10000^(-2c/d): hand-computed', () => {
    expect(rotate([1, 0], 3)).toEqual([Math.cos(3), Math.sin(3)]);
    const y = rotate([1, 2, 3, 4], 2); // pair 0: (1, 3) by 2 rad; pair 1: (2, 4) by 2 / 100 rad
    expect(y[0]).toBeCloseTo(Math.cos(2) - 3 * Math.sin(2), 12);
    expect(y[2]).toBeCloseTo(3 * Math.cos(2) + Math.sin(2), 12);
    expect(y[1]).toBeCloseTo(2 * Math.cos(0.02) - 4 * Math.sin(0.02), 12);
    expect(y[3]).toBeCloseTo(4 * Math.cos(0.02) + 2 * Math.sin(0.02), 12);
  });

  it('rotates each channel pair by pos * theta_c (float64 reference), with an offset', async () => {
    const rng = new Rng(3);
    const x = randomNormal([2, 3, 5, d], rng); // [B, h, T, d]
    const X = (await x.array()) as number[][][][];
    for (const offset of [0, 11, 100]) {
      const y = (await rope.apply(x, offset).array()) as number[][][][];
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 3; h++)
          for (let t = 0; t < 5; t++) {
            const want = rotate(X[b][h][t], offset + t);
            for (let c = 0; c < d; c++) expect(Math.abs(y[b][h][t][c] - want[c])).toBeLessThan(2e-6);
          }
    }
    x.dispose();
  });

  it('keeps its tables out of tfjs: a 32,768-row table makes no tensor, and its last rows rotate as the formula says', async () => {
    const before = tf.memory().numTensors;
    const long = new RotaryEmbedding(d, { maxLen: 32_768 });
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8], [-1, 0.5, 2, 0, 1, -3, 0.25, 4]]); // [T = 2, d]
    const out = long.apply(x, 32_766);
    const y = (await out.array()) as number[][];
    for (let t = 0; t < 2; t++) {
      const want = rotate((await x.array())[t] as number[], 32_766 + t);
      for (let c = 0; c < d; c++) expect(Math.abs(y[t][c] - want[c]), `row ${t}, channel ${c}`).toBeLessThan(1e-5);
    }
    tf.dispose([x, out]);
    long.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('preserves norms', async () => {
    const x = randomNormal([4, 50, d], new Rng(1));
    const y = rope.apply(x, 7);
    const nx = await tf.norm(x, 'euclidean', -1).data();
    const ny = await tf.norm(y, 'euclidean', -1).data();
    for (let i = 0; i < nx.length; i++) expect(Math.abs(nx[i] - ny[i])).toBeLessThan(1e-5 * nx[i]);
    tf.dispose([x, y]);
  });

  it('q·k depends only on the relative position', async () => {
    const rng = new Rng(8);
    const q = randomNormal([1, d], rng);
    const k = randomNormal([1, d], rng);
    const score = async (pq: number, pk: number) => {
      const [a, b] = [rope.apply(q, pq), rope.apply(k, pk)];
      const s = (await tf.sum(tf.mul(a, b)).data())[0];
      tf.dispose([a, b]);
      return s;
    };
    for (const delta of [0, 1, 3, 10]) {
      const ref = await score(delta, 0);
      for (const start of [1, 5, 40, 300]) expect(Math.abs((await score(start + delta, start)) - ref)).toBeLessThan(1e-5);
    }
    // ...and it does depend on it.
    expect(Math.abs((await score(3, 0)) - (await score(0, 0)))).toBeGreaterThan(1e-3);
    tf.dispose([q, k]);
  });

  it('is differentiable, leaks nothing and names bad shapes', async () => {
    const x = randomNormal([2, 6, d], new Rng(2));
    await expectNoLeak(() => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(rope.apply(t, 3))))(x);
      // Rotation keeps norms, so d/dx sum(|Rx|^2) = 2x.
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(g, tf.mul(x, 2)))).dataSync()[0]);
      expect(err).toBeLessThan(1e-5);
      tf.dispose(g);
    }, { warmup: 1 });
    expect(() => rope.apply(tf.zeros([2, 3, 6]))).toThrow(ShapeError);
    expect(() => rope.apply(tf.zeros([2, 3, 6]))).toThrow('x must be [..., T, 8], found shape [2, 3, 6]');
    expect(() => new RotaryEmbedding(5)).toThrow('headDim must be an even integer');
    x.dispose();
  });
});
