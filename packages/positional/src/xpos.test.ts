import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, ValueError, initBackend, randomNormal, tf } from '@tx/core';
import { expectNoLeak, maxAbsDifference, flatten, readFixture } from '@tx/core/testing';
import { XPosEmbedding } from './xpos.js';

interface XPosCase {
  name: string;
  headDim: number; scaleBase: number; center: number; queryOffset: number;
  q: number[]; k: number[]; gq: number[]; gk: number[]; rq: number[]; rk: number[]; dq: number[]; dk: number[];
}
const fixture = readFixture<{ cases: XPosCase[] }>(new URL('../test/fixtures/xpos.json', import.meta.url));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('XPosEmbedding against PyTorch (tooling/fixtures/xpos.py)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: rotated queries and keys, and their gradients, to 1e-5`, async () => {
      const xpos = new XPosEmbedding(c.headDim, { scaleBase: c.scaleBase, center: c.center, maxLen: 4 });
      const [q, k, gq, gk] = [c.q, c.k, c.gq, c.gk].map((a) => tf.tensor(a));
      const [rq, rk] = [xpos.rotateQueries(q, c.queryOffset), xpos.rotateKeys(k)];
      expect(rq.shape).toEqual(q.shape);
      expect(maxAbsDifference(await rq.data(), flatten(c.rq))).toBeLessThan(1e-5);
      expect(maxAbsDifference(await rk.data(), flatten(c.rk))).toBeLessThan(1e-5);
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.add(tf.sum(tf.mul(xpos.rotateQueries(a, c.queryOffset), gq)), tf.sum(tf.mul(xpos.rotateKeys(b), gk))) as tf.Scalar;
      const [dq, dk] = tf.grads(loss)([q, k]);
      expect(maxAbsDifference(await dq.data(), flatten(c.dq))).toBeLessThan(1e-5);
      expect(maxAbsDifference(await dk.data(), flatten(c.dk))).toBeLessThan(1e-5);
      tf.dispose([q, k, gq, gk, rq, rk, dq, dk]);
      xpos.dispose();
    });
  }
});

/** One head vector at position pos in float64: pairs (2c, 2c+1) rotated by pos·theta_c, scaled by s^sign. */
function xpos64(x: number[], pos: number, { center = 0, scaleBase = 512, sign = 1 } = {}): number[] {
  const d = x.length;
  const out = [...x];
  for (let c = 0; c < d / 2; c++) {
    const a = pos * Math.pow(10000, (-2 * c) / d);
    const s = Math.pow((2 * c / d + 0.4) / 1.4, (sign * (pos - center)) / scaleBase);
    out[2 * c] = (x[2 * c] * Math.cos(a) - x[2 * c + 1] * Math.sin(a)) * s;
    out[2 * c + 1] = (x[2 * c + 1] * Math.cos(a) + x[2 * c] * Math.sin(a)) * s;
  }
  return out;
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const d = 8;

describe('XPosEmbedding', () => {
  let xpos: XPosEmbedding;
  beforeAll(() => {
    xpos = new XPosEmbedding(d, { maxLen: 16, center: 7 });
  });
  afterAll(() => xpos.dispose());

  it('rotates and scales every pair as the float64 formula says, with offsets past the first table', async () => {
    const x = randomNormal([2, 3, 5, d], new Rng(3)); // [B, h, T, d]
    const X = (await x.array()) as number[][][][];
    for (const offset of [0, 11, 100]) {
      for (const [sign, rotate] of [[1, xpos.rotateQueries], [-1, xpos.rotateKeys]] as const) {
        const y = (await rotate.call(xpos, x, offset).array()) as number[][][][];
        for (let b = 0; b < 2; b++)
          for (let h = 0; h < 3; h++)
            for (let t = 0; t < 5; t++) {
              const want = xpos64(X[b][h][t], offset + t, { center: 7, sign });
              for (let c = 0; c < d; c++) expect(Math.abs(y[b][h][t][c] - want[c])).toBeLessThan(2e-6 * Math.max(1, Math.abs(want[c])));
            }
      }
    }
    expect(xpos.scale(7, 0)).toBe(1);
    expect(xpos.zeta(0)).toBeCloseTo(0.4 / 1.4, 15);
    x.dispose();
  });

  it('q·k depends only on the relative position, and decays by zeta_c^((n - m)/scaleBase)', async () => {
    const rng = new Rng(8);
    const q = randomNormal([1, d], rng);
    const k = randomNormal([1, d], rng);
    const Q = ((await q.array()) as number[][])[0];
    const K = ((await k.array()) as number[][])[0];
    const score = async (x: XPosEmbedding, qv: tf.Tensor, kv: tf.Tensor, n: number, m: number) => {
      const [a, b] = [x.rotateQueries(qv, n), x.rotateKeys(kv, m)];
      const s = (await tf.sum(tf.mul(a, b)).data())[0];
      tf.dispose([a, b]);
      return s;
    };
    for (const delta of [0, 1, 3, 10]) {
      const ref = await score(xpos, q, k, delta, 0);
      for (const start of [1, 5, 40, 300]) {
        expect(Math.abs((await score(xpos, q, k, start + delta, start)) - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
      }
    }
    // One channel pair at a time, with a short scale so the decay is large: xPos's score is
    // RoPE's score (the same rotation, no scale) times zeta_c^((n - m)/scaleBase).
    const fast = new XPosEmbedding(d, { scaleBase: 16, maxLen: 512 });
    for (const c of [0, d / 2 - 1]) {
      const only = (v: number[]) => v.map((x, i) => (i === 2 * c || i === 2 * c + 1 ? x : 0));
      const [qc, kc] = [tf.tensor2d([only(Q)]), tf.tensor2d([only(K)])];
      for (const [n, m] of [[60, 10], [260, 10], [10, 60]]) {
        const rope = dot(xpos64(only(Q), n, { scaleBase: Infinity }), xpos64(only(K), m, { scaleBase: Infinity }));
        const want = rope * Math.pow(fast.zeta(c), (n - m) / 16);
        expect(Math.abs((await score(fast, qc, kc, n, m)) - want)).toBeLessThan(1e-4 * Math.abs(want) + 1e-12);
      }
      tf.dispose([qc, kc]);
    }
    // Keys in the past decay (zeta < 1): pair 0 loses more per position than the last pair.
    expect(fast.zeta(0)).toBeLessThan(fast.zeta(d / 2 - 1));
    expect(fast.zeta(d / 2 - 1)).toBeLessThan(1);
    fast.dispose();
    tf.dispose([q, k]);
  });

  it('leaks nothing, forward and backward, and names bad input', async () => {
    const x = randomNormal([2, 6, d], new Rng(2));
    await expectNoLeak(() => {
      const [gq, gk] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(xpos.rotateQueries(a, 3), xpos.rotateKeys(b, 3))) as tf.Scalar)([x, x]);
      tf.dispose([gq, gk]);
    }, { warmup: 1 });
    expect(() => xpos.rotateQueries(tf.zeros([2, 3, 6]))).toThrow(ShapeError);
    expect(() => xpos.rotateQueries(tf.zeros([2, 3, 6]))).toThrow('queries must be [..., T, 8], found shape [2, 3, 6]');
    expect(() => xpos.rotateKeys(tf.zeros([6]))).toThrow('keys must be [..., T, 8], found shape [6]');
    expect(() => xpos.rotateKeys(x, -1)).toThrow('offset must be a non-negative integer, found -1');
    expect(() => new XPosEmbedding(5)).toThrow('headDim must be an even integer');
    expect(() => new XPosEmbedding(8, { gamma: 0 })).toThrow(ValueError);
    expect(() => new XPosEmbedding(8, { scaleBase: -512 })).toThrow('scaleBase must be a finite number > 0, found -512');
    x.dispose();
  });
});
