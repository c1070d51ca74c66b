import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, initBackend, randomNormal, tf } from '@tx/core';
import { expectNoLeak, flatten, maxAbsDifference as maxAbsDiff, readFixture } from '@tx/core/testing';
import { repeatHeads, scaledDotProductAttention } from './sdpa.js';
import { attention64, centralDifference, reshape } from '../test/reference.js';

interface SdpaCase {
  name: string;
  q: number[][][][]; k: number[][][][]; v: number[][][][]; g: number[][][][];
  out: number[]; weights: number[] /* PyTorch's name: the attention probabilities */; dq: number[]; dk: number[]; dv: number[];
  allowed?: unknown; additive?: unknown;
}
const fixture = readFixture<{ cases: SdpaCase[] }>(new URL('../test/fixtures/sdpa.json', import.meta.url));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('scaledDotProductAttention against PyTorch (float64 reference)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: output, attention probabilities and gradients to 1e-5`, async () => {
      const [q, k, v, g] = [c.q, c.k, c.v, c.g].map((a) => tf.tensor(a));
      const mask = c.allowed ? tf.tensor(c.allowed as boolean[], undefined, 'bool') : c.additive ? tf.tensor(c.additive as number[]) : null;
      const { output, attention } = scaledDotProductAttention(q, k, v, { mask, returnAttention: true });
      expect(maxAbsDiff(await output.data(), flatten(c.out))).toBeLessThan(1e-5);
      expect(maxAbsDiff(await attention.data(), flatten(c.weights))).toBeLessThan(1e-5);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(scaledDotProductAttention(a, b, d, { mask }).output, g)))([q, k, v]);
      for (const [got, want] of [[grads[0], c.dq], [grads[1], c.dk], [grads[2], c.dv]] as const) {
        expect(maxAbsDiff(await got.data(), flatten(want))).toBeLessThan(1e-5);
      }
      tf.dispose([q, k, v, g, output, attention, ...grads]);
      if (mask) mask.dispose();
    });
  }
});

describe('scaledDotProductAttention', () => {
  it('is softmax(QKᵀ/√d)V on a hand-checked case, 3-D inputs as one head', async () => {
    // One query equally similar to both keys: the output is the mean of the values.
    const q = tf.tensor3d([[[1, 0]]]);
    const k = tf.tensor3d([[[2, 0], [2, 0]]]);
    const v = tf.tensor3d([[[1, 2], [3, 6]]]);
    expect(await scaledDotProductAttention(q, k, v).output.array()).toEqual([[[2, 4]]]);
    // Scores 0 and 2/√2 = √2: probabilities 1/(1+e^√2), e^√2/(1+e^√2).
    const k2 = tf.tensor3d([[[0, 0], [2, 0]]]);
    const { attention } = scaledDotProductAttention(q, k2, v, { returnAttention: true });
    const w1 = Math.exp(Math.SQRT2) / (1 + Math.exp(Math.SQRT2));
    const got = (await attention.array()) as number[][][];
    expect(got[0][0][1]).toBeCloseTo(w1, 6);
  });

  it('still takes the deprecated returnWeights, and returns the probabilities as attention and as the deprecated weights', async () => {
    const q = tf.tensor3d([[[1, 0]]]);
    const k = tf.tensor3d([[[0, 0], [2, 0]]]);
    const v = tf.tensor3d([[[1, 2], [3, 6]]]);
    const w1 = Math.exp(Math.SQRT2) / (1 + Math.exp(Math.SQRT2)); // scores 0 and √2, as above
    const old = scaledDotProductAttention(q, k, v, { returnWeights: true });
    expect(old.weights).toBe(old.attention); // one tensor under both names
    const got = (await old.attention.array()) as number[][][];
    expect(got[0][0][0]).toBeCloseTo(1 - w1, 6);
    expect(got[0][0][1]).toBeCloseTo(w1, 6);
    const none = scaledDotProductAttention(q, k, v);
    expect([none.attention, none.weights]).toEqual([null, null]);
    tf.dispose([q, k, v, old.output, old.attention, none.output]);
  });

  it('causal, key padding, boolean and additive masks block exactly what they say', async () => {
    const rng = new Rng(4);
    const [B, h, T, d] = [2, 2, 4, 3];
    const q = randomNormal([B, h, T, d], rng), k = randomNormal([B, h, T, d], rng), v = randomNormal([B, h, T, d], rng);
    const pad = tf.tensor2d([[false, false, false, true], [false, false, true, true]], [2, 4], 'bool');
    const { attention } = scaledDotProductAttention(q, k, v, { causal: true, keyPaddingMask: pad, returnAttention: true });
    const w = (await attention.array()) as number[][][][];
    for (let b = 0; b < B; b++)
      for (let hh = 0; hh < h; hh++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) if (j > i || (b === 0 && j === 3) || (b === 1 && j >= 2)) expect(w[b][hh][i][j]).toBe(0);
    // A boolean mask and the equivalent additive -Infinity mask agree.
    const allowed = [[true, false, true, true], [false, true, true, false], [true, true, true, true], [false, false, false, true]];
    const boolMask = tf.tensor2d(allowed, [4, 4], 'bool');
    const addMask = tf.tensor2d(allowed.map((r) => r.map((a) => (a ? 0 : -Infinity))));
    const a = scaledDotProductAttention(q, k, v, { mask: boolMask }).output;
    const b2 = scaledDotProductAttention(q, k, v, { mask: addMask }).output;
    expect(maxAbsDiff(await a.data(), await b2.data())).toBe(0);
    tf.dispose([q, k, v, pad, attention, boolMask, addMask, a, b2]);
  });

  it('a fully masked row gives zeros and zero gradients, not NaN', async () => {
    const rng = new Rng(5);
    const q = randomNormal([1, 1, 3, 2], rng), k = randomNormal([1, 1, 3, 2], rng), v = randomNormal([1, 1, 3, 2], rng);
    const mask = tf.tensor2d([[true, true, false], [false, false, false], [true, false, false]], [3, 3], 'bool');
    const { output, attention } = scaledDotProductAttention(q, k, v, { mask, returnAttention: true });
    const out = (await output.array()) as number[][][][];
    expect(out[0][0][1]).toEqual([0, 0]);
    expect(((await attention.array()) as number[][][][])[0][0][1]).toEqual([0, 0, 0]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(scaledDotProductAttention(a, b, c, { mask }).output))([q, k, v]);
    for (const gr of grads) expect(Array.from(await gr.data()).every(Number.isFinite)).toBe(true);
    expect(((await grads[0].array()) as number[][][][])[0][0][1]).toEqual([0, 0]);
    // With -Infinity additive masks too.
    const inf = tf.fill([3, 3], -Infinity);
    expect(Array.from(await scaledDotProductAttention(q, k, v, { mask: inf }).output.data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('grouped-query attention equals repeating the K/V heads', async () => {
    const rng = new Rng(6);
    const q = randomNormal([2, 4, 3, 5], rng), k = randomNormal([2, 2, 6, 5], rng), v = randomNormal([2, 2, 6, 4], rng);
    const rep = (t: tf.Tensor) => tf.concat(tf.split(t, 2, 1).flatMap((x) => [x, x]), 1);
    const gqa = scaledDotProductAttention(q, k, v, { causal: true }).output;
    const full = scaledDotProductAttention(q, rep(k), rep(v), { causal: true }).output;
    expect(gqa.shape).toEqual([2, 4, 3, 4]);
    expect(maxAbsDiff(await gqa.data(), await full.data())).toBeLessThan(1e-6);
  });

  it('repeatHeads repeats each head in place (0, 0, 1, 1) and its gradient sums the copies', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]); // head 0: [[1, 2], [3, 4]], head 1: [[5, 6], [7, 8]]
    const out = repeatHeads(x, 2);
    expect(out.shape).toEqual([1, 4, 2, 2]);
    expect(Array.from(await out.data())).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8]);
    const dy = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 2, 2]);
    const dx = tf.grad((t: tf.Tensor) => repeatHeads(t, 2))(x, dy);
    // head 0 gets copies 0 and 1 (0..3 + 4..7), head 1 copies 2 and 3 (8..11 + 12..15)
    expect(Array.from(await dx.data())).toEqual([4, 6, 8, 10, 20, 22, 24, 26]);
    expect(repeatHeads(x, 1)).toBe(x);
  });

  it('sliding window: each query sees itself and the window - 1 keys before it', async () => {
    const rng = new Rng(7);
    const q = randomNormal([1, 1, 6, 2], rng), k = randomNormal([1, 1, 6, 2], rng), v = randomNormal([1, 1, 6, 2], rng);
    const { attention } = scaledDotProductAttention(q, k, v, { causal: true, window: 3, returnAttention: true });
    const w = ((await attention.array()) as number[][][][])[0][0];
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(w[i][j] > 0).toBe(j <= i && j > i - 3);
  });

  it('a window without causal hides only keys too far back (later keys stay visible)', async () => {
    const rng = new Rng(8);
    const q = randomNormal([1, 1, 6, 2], rng), k = randomNormal([1, 1, 6, 2], rng), v = randomNormal([1, 1, 6, 2], rng);
    for (let round = 0; round < 2; round++) {
      // twice: the second call reuses the remembered mask values
      const { attention } = scaledDotProductAttention(q, k, v, { window: 3, returnAttention: true });
      const w = ((await attention.array()) as number[][][][])[0][0];
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(w[i][j] > 0, `round ${round} (${i}, ${j})`).toBe(j > i - 3);
    }
  });

  it('gradients match float64 central differences (masked, two heads)', async () => {
    const rng = new Rng(9);
    const [B, h, Tq, Tk, d] = [1, 2, 3, 4, 3];
    const shapes = [[B, h, Tq, d], [B, h, Tk, d], [B, h, Tk, d]];
    const inputs = shapes.map((s) => randomNormal(s, rng));
    const G = randomNormal([B, h, Tq, d], rng);
    const allowed = [[true, true, false, true], [false, true, true, true], [true, false, false, false]];
    const mask = tf.tensor2d(allowed, [Tq, Tk], 'bool');
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(scaledDotProductAttention(a, b, c, { mask }).output, G)))(inputs);
    const values = await Promise.all(inputs.map(async (t) => Array.from(await t.data())));
    const g = Array.from(await G.data());
    // loss(values) in float64 over the same inputs
    const loss = (which: number, changed: number[]) => {
      const [q, k, v] = values.map((vals, i) => reshape(i === which ? changed : vals, shapes[i]) as number[][][][]);
      let total = 0;
      const out = q[0].map((_, hh) => attention64(q[0][hh], k[0][hh], v[0][hh], allowed));
      out.flat(2).forEach((x, i) => (total += x * g[i]));
      return total;
    };
    for (let which = 0; which < 3; which++) {
      const got = await grads[which].data();
      for (let i = 0; i < values[which].length; i++) {
        const fd = centralDifference((vals) => loss(which, vals), values[which], i);
        expect(Math.abs(got[i] - fd), `input ${which} element ${i}`).toBeLessThan(2e-5 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('forward and backward leak nothing', async () => {
    const rng = new Rng(1);
    const [q, k, v] = [randomNormal([2, 2, 4, 3], rng), randomNormal([2, 1, 5, 3], rng), randomNormal([2, 1, 5, 3], rng)];
    const pad = tf.zeros([2, 5], 'bool');
    await expectNoLeak(() => {
      const r = scaledDotProductAttention(q, k, v, { causal: true, keyPaddingMask: pad, returnAttention: true, dropout: { p: 0.1, rng } });
      tf.dispose([r.output, r.attention]);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(scaledDotProductAttention(a, b, c, { causal: true, keyPaddingMask: pad }).output))([q, k, v]);
      tf.dispose(grads);
    }, { warmup: 1, label: 'sdpa' });
    tf.dispose([q, k, v, pad]);
  });

  it('names bad inputs and their shapes', () => {
    const q = tf.zeros([2, 2, 3, 4]);
    expect(() => scaledDotProductAttention(q, tf.zeros([2, 2, 5, 3]), tf.zeros([2, 2, 5, 3]))).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(q, tf.zeros([2, 2, 5, 3]), tf.zeros([2, 2, 5, 3]))).toThrow('q and k must have the same last axis d_k: q [2, 2, 3, 4], k [2, 2, 5, 3]');
    expect(() => scaledDotProductAttention(q, tf.zeros([2, 5, 4]), tf.zeros([2, 5, 4]))).toThrow('k must be [B, h, T, d] (or [B, T, d] like q), found shape [2, 5, 4]');
    expect(() => scaledDotProductAttention(q, tf.zeros([2, 3, 5, 4]), tf.zeros([2, 3, 5, 4]))).toThrow("q's 2 heads are not a multiple of k's 3");
    const k = tf.zeros([2, 2, 5, 4]);
    expect(() => scaledDotProductAttention(q, k, k, { mask: tf.ones([3, 4], 'bool') })).toThrow('mask must broadcast to [B, h, Tq, Tk] = [2, 2, 3, 5], found shape [3, 4]');
    expect(() => scaledDotProductAttention(q, k, k, { keyPaddingMask: tf.zeros([2, 4], 'bool') })).toThrow('keyPaddingMask must be bool [B, Tk] = [2, 5], found bool [2, 4]');
  });
});
