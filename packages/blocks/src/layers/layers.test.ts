// Layers on cpu and wasm: hand-computed values, gradients against autodiff of
// the plain formula and against finite differences, no tensor leaks.
import { Rng, ShapeError, initBackend, randomNormal, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding } from './embedding.js';
import { FeedForward, gelu, geluTanh } from './feedforward.js';
import { Block } from './block.js';
import { LayerNorm } from './norm.js';
import { RMSNorm } from './rmsnorm.js';

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
};
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe.each(['cpu', 'wasm'] as const)('layers on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  describe('Embedding', () => {
    it('returns rows of the table for int32 ids', () => {
      const emb = new Embedding(5, 3, { rng: new Rng(1) });
      const table = emb.weight.arraySync() as number[][];
      const ids = tf.tensor2d([[4, 0], [2, 2]], undefined, 'int32');
      const out = emb.forward(ids);
      expect(out.shape).toEqual([2, 2, 3]);
      close(values(out), [...table[4], ...table[0], ...table[2], ...table[2]]);
      expect(() => emb.forward(tf.tensor1d([1, 2]))).toThrow(ShapeError);
      expect(() => emb.forward(tf.tensor1d([1, 2]))).toThrow('Embedding: ids must be int32, found float32');
      tf.dispose([ids, out]);
      emb.dispose();
    });

    it('has the gradient of tf.gather (repeated ids add up)', () => {
      const emb = new Embedding(6, 4, { rng: new Rng(2) });
      const ids = tf.tensor2d([[1, 3, 1], [5, 1, 0]], undefined, 'int32');
      const c = randomNormal([2, 3, 4], new Rng(3));
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(emb.forward(ids), c)) as tf.Scalar, [emb.weight]);
      const g = grads[emb.weight.name];
      // Expected: row r of dW is the sum of c over the positions whose id is r.
      const cv = c.arraySync() as number[][][];
      const idv = ids.arraySync() as number[][];
      const expected = Array.from({ length: 6 }, () => [0, 0, 0, 0]);
      idv.forEach((row, b) => row.forEach((id, t) => cv[b][t].forEach((v, j) => (expected[id][j] += v))));
      close(values(g), expected.flat());
      tf.dispose([ids, c, g]);
      emb.dispose();
    });

    it('leaks no tensors in forward and backward', async () => {
      const emb = new Embedding(7, 4, { rng: new Rng(4) });
      const ids = tf.tensor2d([[1, 2], [6, 0]], undefined, 'int32');
      await expectNoLeak(() => tf.tidy(() => void emb.forward(ids)), { label: 'forward' });
      await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => tf.sum(emb.forward(ids)) as tf.Scalar, [emb.weight])), { label: 'backward', warmup: 1 });
      ids.dispose();
      emb.dispose();
    });
  });

  describe('LayerNorm', () => {
    it('normalises a hand-computed row, with and without bias', () => {
      const ln = new LayerNorm(4);
      expect(ln.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
      const rstd = 1 / Math.sqrt(1.25 + 1e-5);
      close(values(ln.forward(tf.tensor2d([[1, 2, 3, 4]]))), [-1.5 * rstd, -0.5 * rstd, 0.5 * rstd, 1.5 * rstd]);
      const noBias = new LayerNorm(4, { bias: false });
      expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
      noBias.weight.assign(tf.tensor1d([1, 2, 3, 4]));
      close(values(noBias.forward(tf.tensor3d([[[2, 2, 2, 6]]]))), [-1, -2, -3, 12].map((v) => (v * 1) / Math.sqrt(3 + 1e-5)));
      ln.dispose();
      noBias.dispose();
    });

    it('has the gradients of autodiff through the plain formula', () => {
      const rng = new Rng(7);
      const ln = new LayerNorm(6);
      ln.weight.assign(randomNormal([6], rng));
      ln.bias!.assign(randomNormal([6], rng));
      const x = randomNormal([2, 3, 6], rng);
      const c = randomNormal([2, 3, 6], rng);
      const reference = (xIn: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xIn, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(xIn, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
      };
      const [dx] = tf.grads((xIn: tf.Tensor) => tf.sum(tf.mul(ln.forward(xIn), c)))([x]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ln.forward(x), c)) as tf.Scalar, [ln.weight, ln.bias!]);
      const [rx, rw, rb] = tf.grads((xIn: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(reference(xIn, w, b), c)))([x, ln.weight, ln.bias!]);
      close(values(dx), values(rx), 2e-5);
      close(values(grads[ln.weight.name]), values(rw), 2e-5);
      close(values(grads[ln.bias!.name]), values(rb), 2e-5);
      ln.dispose();
    });

    it('leaks no tensors', async () => {
      const ln = new LayerNorm(8, { bias: false });
      const x = randomNormal([3, 8], new Rng(1));
      await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => tf.sum(tf.square(ln.forward(x))) as tf.Scalar)), { warmup: 1 });
      x.dispose();
      ln.dispose();
    });
  });

  it('RMSNorm normalises by the root mean square', () => {
    const rms = new RMSNorm(2);
    const r = 1 / Math.sqrt(12.5 + 1e-5);
    close(values(rms.forward(tf.tensor2d([[3, 4]]))), [3 * r, 4 * r]);
    expect(rms.namedParameters().map(([n]) => n)).toEqual(['weight']);
    rms.dispose();
  });

  describe('activations', () => {
    it('GELU exact and tanh match reference values', () => {
      const x = tf.tensor1d([-3, -1, -0.5, 0, 0.5, 1, 2]);
      // scipy/torch: x * Φ(x)
      close(values(gelu(x)), [-0.0040496, -0.1586553, -0.1542688, 0, 0.3457312, 0.8413447, 1.9544997], 2e-6);
      close(values(geluTanh(x)), [-0.0036374, -0.1588080, -0.1542859, 0, 0.3457141, 0.8411920, 1.9545977], 2e-6);
      x.dispose();
    });

    it("GELU's gradient matches finite differences of the float64 formula", () => {
      const xs = [-2.5, -1, -0.3, 0, 0.7, 1.5, 3];
      const [g] = tf.grads((x: tf.Tensor) => tf.sum(gelu(x)))([tf.tensor1d(xs)]);
      const erf = (z: number) => {
        // Abramowitz-Stegun 7.1.26 is too coarse; integrate with Simpson's rule in float64.
        const n = 2000;
        const h = z / n;
        let s = 1 + Math.exp(-z * z);
        for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
        return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
      };
      const f = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
      const fd = xs.map((x) => (f(x + 1e-4) - f(x - 1e-4)) / 2e-4);
      close(values(g), fd, 2e-5);
    });
  });

  describe('FeedForward', () => {
    it('is c_proj(act(c_fc(x))) with nanoGPT names', () => {
      const rng = new Rng(11);
      for (const activation of ['gelu', 'gelu_tanh', 'relu'] as const) {
        const ff = new FeedForward(4, { rng, bias: true, activation });
        expect(ff.namedParameters().map(([n, v]) => `${n} ${v.shape}`)).toEqual(['c_fc.weight 4,16', 'c_fc.bias 16', 'c_proj.weight 16,4', 'c_proj.bias 4']);
        ff.c_fc.bias!.assign(randomNormal([16], rng));
        const x = randomNormal([2, 3, 4], rng);
        const h = tf.add(tf.matMul(tf.reshape(x, [6, 4]), ff.c_fc.weight), ff.c_fc.bias!);
        // The activations' plain formulas (the layer's own are hand-written gradients and are checked above).
        const tanhGelu = () => tf.mul(tf.mul(h, 0.5), tf.add(tf.tanh(tf.mul(tf.add(h, tf.mul(tf.pow(h, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
        const act = activation === 'relu' ? tf.relu(h) : activation === 'gelu' ? tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.div(h, Math.SQRT2)), 1)) : tanhGelu();
        const expected = tf.add(tf.matMul(act, ff.c_proj.weight), ff.c_proj.bias!);
        const out = ff.forward(x);
        expect(out.shape).toEqual([2, 3, 4]);
        close(values(out), values(expected), 1e-6);
        tf.dispose([x, h, act, expected, out]);
        ff.dispose();
      }
    });

    it('leaks no tensors in forward and backward', async () => {
      const ff = new FeedForward(8, { rng: new Rng(1), bias: false, dropout: 0.1 });
      const x = randomNormal([2, 5, 8], new Rng(2));
      await expectNoLeak(() => tf.tidy(() => void ff.forward(x)));
      await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => tf.sum(ff.forward(x)) as tf.Scalar)), { warmup: 1 });
      x.dispose();
      ff.dispose();
    });
  });

  describe('Block', () => {
    const options = { nHead: 2, bias: true, dropout: 0, rng: new Rng(7) };

    it('names its sublayers as nanoGPT (GPT, encoder) and as the paper decoder (cross-attention)', () => {
      const encoder = new Block(8, options);
      const decoder = new Block(8, { ...options, causal: true, cross: true });
      const top = (b: Block) => [...new Set(b.namedParameters().map(([n]) => n.split('.')[0]))];
      expect(top(encoder)).toEqual(['ln_1', 'attn', 'ln_2', 'mlp']);
      expect(top(decoder)).toEqual(['ln_1', 'attn', 'ln_2', 'cross_attn', 'ln_3', 'mlp']);
      encoder.dispose();
      decoder.dispose();
    });

    it('holds its width as dModel, as its norms and feed-forward do; dim is the deprecated name of the same width', () => {
      const block = new Block(8, { ...options, cross: true });
      const rms = new RMSNorm(6);
      expect([block.dModel, block.ln_1.dModel, block.ln_2.dModel, block.mlp.dModel, rms.dModel]).toEqual([8, 8, 8, 8, 6]);
      expect([block.dim, block.ln_1.dim, block.mlp.dim, rms.dim]).toEqual([8, 8, 8, 6]);
      block.dispose();
      rms.dispose();
    });

    it('returns the attention probabilities of self- and cross-attention when asked: rows that sum to 1', () => {
      const block = new Block(8, { ...options, causal: true, cross: true });
      const x = randomNormal([1, 3, 8], new Rng(4));
      const memory = randomNormal([1, 5, 8], new Rng(5));
      const out = block.forward(x, { memory, returnAttention: true });
      expect([out.attention!.shape, out.crossAttention!.shape]).toEqual([[1, 2, 3, 3], [1, 2, 3, 5]]);
      close(values(tf.sum(out.attention!, -1)), Array(6).fill(1), 1e-6);
      close(values(tf.sum(out.crossAttention!, -1)), Array(6).fill(1), 1e-6);
      expect(values(out.attention!)[1]).toBe(0); // causal: the first query sees only itself
      const plain = block.forward(x, { memory });
      expect([plain.attention, plain.crossAttention]).toEqual([undefined, undefined]);
      tf.dispose([x, memory, out.y, out.attention!, out.crossAttention!, plain.y]);
      block.dispose();
    });

    it('causal: changing a later token changes no earlier output; an encoder block sees both ways', () => {
      const x = randomNormal([1, 4, 8], new Rng(1));
      const changed = tf.concat([tf.slice(x, [0, 0, 0], [1, 3, 8]), randomNormal([1, 1, 8], new Rng(2))], 1);
      for (const [causal, norm] of [[true, 'pre'], [false, 'post']] as const) {
        const block = new Block(8, { ...options, causal, norm });
        const [a, b] = [values(block.forward(x).y), values(block.forward(changed).y)];
        const firstThree = (v: number[]) => v.slice(0, 24);
        if (causal) close(firstThree(a), firstThree(b), 1e-6);
        else expect(Math.max(...firstThree(a).map((v, i) => Math.abs(v - firstThree(b)[i])))).toBeGreaterThan(1e-4);
        block.dispose();
      }
      tf.dispose([x, changed]);
    });

    it('post-norm is LN(x + sublayer(x)) and pre-norm is x + sublayer(LN(x)), sublayer by sublayer', () => {
      const x = randomNormal([2, 3, 8], new Rng(3));
      for (const norm of ['pre', 'post'] as const) {
        const block = new Block(8, { ...options, norm });
        const ln2 = block.namedParameters().filter(([n]) => n.startsWith('ln_2.')).map(([, v]) => v);
        const layerNorm2 = new LayerNorm(8);
        layerNorm2.weight.assign(ln2[0]);
        layerNorm2.bias!.assign(ln2[1]);
        const attn = (t: tf.Tensor) => block.attn.forward(t).output;
        const expected = norm === 'pre'
          ? tf.tidy(() => { const h = tf.add(x, attn(block.ln_1.forward(x))); return tf.add(h, block.mlp.forward(layerNorm2.forward(h))); })
          : tf.tidy(() => { const h = block.ln_1.forward(tf.add(x, attn(x))); return layerNorm2.forward(tf.add(h, block.mlp.forward(h))); });
        close(values(block.forward(x).y), values(expected), 1e-6);
        tf.dispose(expected);
        layerNorm2.dispose();
        block.dispose();
      }
      x.dispose();
    });
  });
});
