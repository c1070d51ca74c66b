import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, ShapeError, ValueError, initBackend, randomNormal, tf, useKernels } from '@tx/core';
import { expectNoLeak, flatten, maxAbsDifference as maxAbsDiff, readFixture } from '@tx/core/testing';
import { RotaryEmbedding } from '@tx/positional';
import { KVCache } from './cache.js';
import { CrossAttention, SelfAttention, type AttentionCall, type AttentionOutput } from './attention.js';
import { centralDifference, mha64, reshape } from '../test/reference.js';

interface MhaCase {
  name: string; dModel: number; nHeads: number; cross: boolean; bias: boolean; // nHeads: the fixture's (PyTorch's num_heads)
  x: number[][][]; context?: number[][][]; g: number[][][];
  out: number[]; weights: number[] /* PyTorch's name: the attention probabilities */; dx: number[]; dcontext?: number[];
  in_proj_weight: number[][]; out_proj_weight: number[][]; in_proj_bias?: number[]; out_proj_bias?: number[];
  d_in_proj_weight: number[][]; d_out_proj_weight: number[][]; d_in_proj_bias?: number[]; d_out_proj_bias?: number[];
  padding?: boolean[][]; allowed?: boolean[][];
}
const fixture = readFixture<{ cases: MhaCase[] }>(new URL('../test/fixtures/mha.json', import.meta.url));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

/** Self- or cross-attention holding a PyTorch nn.MultiheadAttention's weights, mapped by name. */
function fromTorch(c: MhaCase): SelfAttention | CrossAttention {
  const C = c.dModel;
  const config = { dModel: C, nHead: c.nHeads, bias: c.bias, rng: new Rng(0) };
  const mha = c.cross ? new CrossAttention(config) : new SelfAttention(config);
  const sd: Record<string, tf.Tensor> = { 'c_proj.weight': tf.tensor(c.out_proj_weight) };
  if (c.bias) sd['c_proj.bias'] = tf.tensor(c.out_proj_bias!);
  if (c.cross) {
    sd['q_proj.weight'] = tf.tensor(c.in_proj_weight.slice(0, C));
    sd['kv_proj.weight'] = tf.tensor(c.in_proj_weight.slice(C));
    if (c.bias) [sd['q_proj.bias'], sd['kv_proj.bias']] = [tf.tensor(c.in_proj_bias!.slice(0, C)), tf.tensor(c.in_proj_bias!.slice(C))];
  } else {
    sd['c_attn.weight'] = tf.tensor(c.in_proj_weight);
    if (c.bias) sd['c_attn.bias'] = tf.tensor(c.in_proj_bias!);
  }
  mha.loadStateDict(sd);
  tf.dispose(Object.values(sd));
  return mha;
}

/** One call for both kinds: cross-attention takes the context. */
function run(mha: SelfAttention | CrossAttention, x: tf.Tensor, context: tf.Tensor | undefined, call: AttentionCall = {}): AttentionOutput {
  return mha instanceof CrossAttention ? mha.forward(x, context ?? null, call) : mha.forward(x, call);
}

describe('SelfAttention and CrossAttention against PyTorch nn.MultiheadAttention (same weights)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: output, per-head attention probabilities and every gradient to 1e-5`, async () => {
      const mha = fromTorch(c);
      const x = tf.tensor(c.x);
      const context = c.context ? tf.tensor(c.context) : undefined;
      const g = tf.tensor(c.g);
      const call = {
        mask: c.allowed ? tf.tensor(c.allowed, undefined, 'bool') : null,
        keyPaddingMask: c.padding ? tf.tensor(c.padding, undefined, 'bool') : null,
      };
      const { output, attention } = run(mha, x, context, { ...call, returnAttention: true });
      expect(maxAbsDiff(await output.data(), flatten(c.out))).toBeLessThan(1e-5);
      expect(attention!.shape).toEqual([x.shape[0], c.nHeads, x.shape[1], (context ?? x).shape[1]]);
      expect(maxAbsDiff(await attention!.data(), flatten(c.weights))).toBeLessThan(1e-5);
      if (c.name.includes('causal')) {
        const viaFlag = run(mha, x, context, { causal: true }).output;
        expect(maxAbsDiff(await viaFlag.data(), flatten(c.out))).toBeLessThan(1e-5);
      }

      // Gradients of sum(out * g): inputs with tf.grads, parameters with tf.variableGrads.
      const inputs = context ? [x, context] : [x];
      const loss = (...ins: tf.Tensor[]) => tf.sum(tf.mul(run(mha, ins[0], ins[1], call).output, g)) as tf.Scalar;
      const dIn = tf.grads(loss)(inputs);
      expect(maxAbsDiff(await dIn[0].data(), flatten(c.dx))).toBeLessThan(1e-5);
      if (context) expect(maxAbsDiff(await dIn[1].data(), flatten(c.dcontext))).toBeLessThan(1e-5);
      const { value, grads } = tf.variableGrads(() => loss(...inputs));
      const named = Object.fromEntries(mha.namedParameters().map(([n, v]) => [n, grads[v.name]]));
      const T = (t: tf.Tensor) => tf.transpose(t); // our weights are [in, out]; PyTorch's grads are [out, in]
      const inW = c.cross ? tf.concat([T(named['q_proj.weight']), T(named['kv_proj.weight'])], 0) : T(named['c_attn.weight']);
      expect(maxAbsDiff(await inW.data(), flatten(c.d_in_proj_weight))).toBeLessThan(1e-5);
      expect(maxAbsDiff(await T(named['c_proj.weight']).data(), flatten(c.d_out_proj_weight))).toBeLessThan(1e-5);
      if (c.bias) {
        const inB = c.cross ? tf.concat([named['q_proj.bias'], named['kv_proj.bias']]) : named['c_attn.bias'];
        expect(maxAbsDiff(await inB.data(), flatten(c.d_in_proj_bias))).toBeLessThan(1e-5);
        expect(maxAbsDiff(await named['c_proj.bias'].data(), flatten(c.d_out_proj_bias))).toBeLessThan(1e-5);
      }
      tf.dispose([value, ...Object.values(grads), ...dIn, output, attention!, x, g, inW]);
      mha.dispose();
    });
  }
});

describe("SelfAttention on wasm with @tx's kernels", () => {
  it("reads Q, K, V straight from c_attn's output: one fused kernel each way, no split, transposes or concat, equal to tfjs's path", async () => {
    const mha = new SelfAttention({ dModel: 16, nHead: 4, causal: true, rng: new Rng(5) });
    const x = randomNormal([2, 7, 16], new Rng(6));
    const g = randomNormal([2, 7, 16], new Rng(7));
    const run = () => {
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(mha.forward(t).output, g)))(x);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(mha.forward(x).output, g)) as tf.Scalar);
      return [dx, grads[mha.c_attn.weight.name], grads[mha.c_proj.weight.name], mha.forward(x).output];
    };
    const { kernels } = await tf.profile(() => run());
    const names = kernels.map((k) => k.name);
    expect(names).toContain('TxAttentionPacked');
    expect(names).toContain('TxAttentionPackedGrad');
    for (const absent of ['Transpose', 'SplitV', 'Concat', 'TxAttention']) expect(names, absent).not.toContain(absent);
    const fused = await Promise.all(run().map((t) => t.data()));
    await useKernels(false);
    try {
      const plain = await Promise.all(run().map((t) => t.data()));
      fused.forEach((f, i) => expect(maxAbsDiff(f, plain[i]), `output ${i}`).toBeLessThan(1e-5));
    } finally {
      await useKernels(true);
    }
    // With the attention probabilities asked for, a KV cache or rotary positions, the general path runs (and the kernels still do its products).
    const packedIn = async (f: () => tf.Tensor) => (await tf.profile(f)).kernels.some((k) => k.name === 'TxAttentionPacked');
    expect(await packedIn(() => mha.forward(x, { returnAttention: true }).output)).toBe(false);
    expect(await packedIn(() => mha.forward(x, { returnWeights: true }).output)).toBe(false); // the deprecated name too
    const cache = new KVCache();
    expect(await packedIn(() => mha.forward(x, { cache }).output)).toBe(false);
    cache.dispose();
    const rope = new RotaryEmbedding(4);
    const rotated = new SelfAttention({ dModel: 16, nHead: 4, causal: true, rotary: rope, rng: new Rng(5) });
    expect(await packedIn(() => rotated.forward(x).output)).toBe(false);
    expect(await packedIn(() => mha.forward(x).output)).toBe(true);
    rotated.dispose();
    rope.dispose();
    mha.dispose();
  });
});

describe('multi-head attention', () => {
  it('uses nanoGPT names and PyTorch layouts in its state dict', () => {
    const self = new SelfAttention({ dModel: 8, nHead: 2, bias: false, rng: new Rng(0) });
    const sd = self.stateDict();
    expect(Object.entries(sd).map(([n, t]) => [n, t.shape])).toEqual([['c_attn.weight', [24, 8]], ['c_proj.weight', [8, 8]]]);
    tf.dispose(Object.values(sd));
    const cross = new CrossAttention({ dModel: 8, nHead: 2, nKvHead: 1, kvDim: 6, rng: new Rng(0) });
    expect(cross.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['q_proj.weight', [8, 8]], ['q_proj.bias', [8]], ['kv_proj.weight', [6, 8]], ['kv_proj.bias', [8]], ['c_proj.weight', [8, 8]], ['c_proj.bias', [8]],
    ]);
    self.dispose();
    cross.dispose();
  });

  it('gradients match float64 central differences (inputs and weights)', async () => {
    const c = fixture.cases[2]; // self, 4 heads, attention mask
    const mha = fromTorch(c) as SelfAttention;
    const x = tf.tensor(c.x).slice([0, 0, 0], [1, -1, -1]); // one batch element
    const G = randomNormal(x.shape, new Rng(3));
    const mask = tf.tensor(c.allowed!, undefined, 'bool');
    const loss = () => tf.sum(tf.mul(mha.forward(x, { mask }).output, G)) as tf.Scalar;
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(mha.forward(t, { mask }).output, G)))(x);
    const { value, grads } = tf.variableGrads(loss);
    const dW = tf.transpose(grads[mha.c_attn.weight.name]); // [3C, C]
    const [xs, g] = [Array.from(await x.data()), Array.from(await G.data())];
    const [Tq, C] = [(x.shape as number[])[1], (x.shape as number[])[2]];
    const f64 = (xv: number[], inW: number[][]) => {
      const xm = reshape(xv, [Tq, C]) as number[][];
      const out = mha64(xm, xm, c.nHeads, inW, c.in_proj_bias!, c.out_proj_weight, c.out_proj_bias!, c.allowed!);
      return out.flat().reduce((a, v, i) => a + v * g[i], 0);
    };
    const gotX = await dx.data();
    for (let i = 0; i < xs.length; i++) {
      const fd = centralDifference((v) => f64(v, c.in_proj_weight), xs, i);
      expect(Math.abs(gotX[i] - fd), `dx[${i}]`).toBeLessThan(2e-5 * Math.max(1, Math.abs(fd)));
    }
    const wFlat = c.in_proj_weight.flat();
    const gotW = await dW.data();
    for (let i = 0; i < wFlat.length; i += 7) {
      const fd = centralDifference((v) => f64(xs, reshape(v, [3 * C, C]) as number[][]), wFlat, i);
      expect(Math.abs(gotW[i] - fd), `dW[${i}]`).toBeLessThan(2e-5 * Math.max(1, Math.abs(fd)));
    }
    tf.dispose([x, G, mask, dx, value, dW, ...Object.values(grads)]);
    mha.dispose();
  });

  it('grouped-query attention equals full attention with each K/V head repeated', async () => {
    const [C, h, hk] = [16, 4, 2];
    const d = C / h;
    const gqa = new SelfAttention({ dModel: C, nHead: h, nKvHead: hk, rng: new Rng(11) });
    expect(gqa.c_attn.weight.shape).toEqual([C, C + 2 * hk * d]);
    const full = new SelfAttention({ dModel: C, nHead: h, rng: new Rng(0) });
    // Columns of full c_attn: q | k head j = gqa k head floor(j / 2) | likewise v.
    const cols: number[] = Array.from({ length: C }, (_, i) => i);
    for (const base of [C, C + hk * d]) for (let j = 0; j < h; j++) for (let c = 0; c < d; c++) cols.push(base + Math.floor(j / (h / hk)) * d + c);
    const idx = tf.tensor1d(cols, 'int32');
    full.c_attn.weight.assign(tf.gather(gqa.c_attn.weight, idx, 1));
    full.c_attn.bias!.assign(tf.gather(gqa.c_attn.bias!, idx));
    full.c_proj.weight.assign(gqa.c_proj.weight);
    const x = randomNormal([2, 5, C], new Rng(2));
    const a = gqa.forward(x, { causal: true }).output;
    const b = full.forward(x, { causal: true }).output;
    expect(maxAbsDiff(await a.data(), await b.data())).toBeLessThan(1e-6);
    gqa.dispose();
    full.dispose();
  });

  describe('KV cache', () => {
    const C = 16;
    const make = (rotary: RotaryEmbedding | null = null) =>
      new SelfAttention({ dModel: C, nHead: 4, nKvHead: 2, causal: true, rotary, rng: new Rng(21) });

    async function decode(mha: SelfAttention, x: tf.Tensor, chunks: number[], cache: KVCache) {
      const outs: tf.Tensor[] = [];
      let t = 0;
      for (const n of chunks) {
        outs.push(mha.forward(tf.slice(x, [0, t, 0], [-1, n, -1]), { cache }).output);
        t += n;
      }
      const out = tf.concat(outs, 1);
      tf.dispose(outs);
      return out;
    }

    it('one token at a time equals full recomputation (1e-5), with RoPE offsets and chunked prefill', async () => {
      const rope = new RotaryEmbedding(4);
      for (const rotary of [null, rope]) {
        const mha = make(rotary);
        const x = randomNormal([2, 9, C], new Rng(5));
        const full = mha.forward(x).output;
        for (const chunks of [[1, 1, 1, 1, 1, 1, 1, 1, 1], [4, 1, 1, 3]]) {
          const cache = new KVCache();
          const stepped = await decode(mha, x, chunks, cache);
          expect(cache.length).toBe(9);
          expect(maxAbsDiff(await stepped.data(), await full.data())).toBeLessThan(1e-5);
          cache.dispose();
        }
        mha.dispose();
      }
      rope.dispose();
    });

    it('returns the Q, K and V it used: softmax(q·kᵀ/√d) is its attention, with the cached keys', async () => {
      const mha = make(new RotaryEmbedding(4));
      const x = randomNormal([1, 5, C], new Rng(6));
      const cache = new KVCache();
      mha.forward(tf.slice(x, [0, 0, 0], [-1, 3, -1]), { cache }).output.dispose();
      const { output, attention, qkv } = mha.forward(tf.slice(x, [0, 3, 0], [-1, 2, -1]), { cache, returnAttention: true, returnQKV: true });
      expect([qkv!.q.shape, qkv!.k.shape, qkv!.v.shape]).toEqual([[1, 4, 2, 4], [1, 2, 5, 4], [1, 2, 5, 4]]);
      // Head j uses K/V head floor(j / 2); query i sits at position 3 + i and sees keys 0..3 + i.
      const [q, k] = [(await qkv!.q.array()) as number[][][][], (await qkv!.k.array()) as number[][][][]];
      const w = (await attention.array()) as number[][][][];
      for (let j = 0; j < 4; j++) for (let i = 0; i < 2; i++) {
        const scores = k[0][Math.floor(j / 2)].map((key, t) => (t <= 3 + i ? key.reduce((a, kv, c) => a + kv * q[0][j][i][c], 0) / 2 : -Infinity));
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const sum = e.reduce((a, b) => a + b);
        expect(maxAbsDiff(e.map((v) => v / sum), w[0][j][i])).toBeLessThan(1e-5);
      }
      tf.dispose([output, attention, qkv!.q, qkv!.k, qkv!.v]);
      cache.dispose();
      mha.dispose();
    });

    it('cross-attention computes the encoder keys once and reuses them', async () => {
      const mha = new CrossAttention({ dModel: C, nHead: 4, kvDim: 12, rng: new Rng(8) });
      const x = randomNormal([2, 3, C], new Rng(1));
      const ctx = randomNormal([2, 7, 12], new Rng(2));
      const pad = tf.tensor2d([[false, false, false, false, false, false, true], Array(7).fill(false)], [2, 7], 'bool');
      const full = mha.forward(x, ctx, { keyPaddingMask: pad }).output;
      const cache = new KVCache();
      const outs = [0, 1, 2].map((t) => mha.forward(tf.slice(x, [0, t, 0], [-1, 1, -1]), t === 0 ? ctx : null, { keyPaddingMask: pad, cache }).output);
      expect(maxAbsDiff(await tf.concat(outs, 1).data(), await full.data())).toBeLessThan(1e-5);
      expect(cache.length).toBe(7);
      cache.dispose();
      mha.dispose();
    });

    it('the decode loop leaks nothing; clone() is independent', async () => {
      const mha = make(new RotaryEmbedding(4));
      const x = randomNormal([1, 6, C], new Rng(9));
      await expectNoLeak(async () => {
        const cache = new KVCache();
        for (let t = 0; t < 6; t++) {
          const step = tf.slice(x, [0, t, 0], [-1, 1, -1]);
          const { output, attention } = mha.forward(step, { cache, returnAttention: true });
          expect(attention.shape).toEqual([1, 4, 1, t + 1]);
          tf.dispose([step, output, attention]);
          if (t === 2) {
            const fork = cache.clone();
            fork.dispose();
          }
        }
        cache.dispose();
      }, { warmup: 1, label: 'KV-cache decode loop' });
    });
  });

  it('still takes the deprecated returnWeights: the same probabilities, as attention and as the deprecated weights', async () => {
    const self = new SelfAttention({ dModel: 8, nHead: 2, causal: true, rng: new Rng(1) });
    const cross = new CrossAttention({ dModel: 8, nHead: 2, rng: new Rng(2) });
    const x = randomNormal([2, 4, 8], new Rng(3));
    const ctx = randomNormal([2, 5, 8], new Rng(4));
    for (const [m, context] of [[self, undefined], [cross, ctx]] as const) {
      const now = run(m, x, context, { returnAttention: true });
      const old = run(m, x, context, { returnWeights: true });
      expect(old.attention).not.toBeNull();
      expect(old.weights).toBe(old.attention); // one tensor under both names
      expect(now.weights).toBe(now.attention);
      expect(maxAbsDiff(await old.attention!.data(), await now.attention!.data())).toBe(0);
      const plain = run(m, x, context);
      expect([plain.attention, plain.weights]).toEqual([null, null]);
      tf.dispose([now.output, now.attention!, old.output, old.attention!, plain.output]);
    }
    tf.dispose([x, ctx]);
    self.dispose();
    cross.dispose();
  });

  it('forward and backward leak nothing (self, cross, dropout)', async () => {
    const self = new SelfAttention({ dModel: 8, nHead: 2, causal: true, dropout: 0.2, rng: new Rng(1) });
    const cross = new CrossAttention({ dModel: 8, nHead: 2, rng: new Rng(2) });
    const x = randomNormal([2, 4, 8], new Rng(3));
    const ctx = randomNormal([2, 5, 8], new Rng(4));
    await expectNoLeak(() => {
      for (const [m, context] of [[self, undefined], [cross, ctx]] as const) {
        const { output, attention } = run(m, x, context, { returnAttention: true });
        tf.dispose([output, attention!]);
        const { value, grads } = tf.variableGrads(() => tf.sum(run(m, x, context).output) as tf.Scalar);
        tf.dispose([value, ...Object.values(grads)]);
      }
    }, { warmup: 1, label: 'MHA forward/backward' });
    self.dispose();
    cross.dispose();
  });

  it('dropout is active in training mode only', async () => {
    const m = new SelfAttention({ dModel: 8, nHead: 2, dropout: 0.5, rng: new Rng(1) });
    const x = randomNormal([1, 4, 8], new Rng(3));
    const a = await m.forward(x).output.data();
    const b = await m.forward(x).output.data();
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    m.eval();
    expect(maxAbsDiff(await m.forward(x).output.data(), await m.forward(x).output.data())).toBe(0);
    m.dispose();
  });

  it('names bad inputs and their shapes', () => {
    const m = new SelfAttention({ dModel: 8, nHead: 2, rng: new Rng(0) });
    expect(() => m.forward(tf.zeros([2, 3, 6]))).toThrow(ShapeError);
    expect(() => m.forward(tf.zeros([2, 3, 6]))).toThrow('SelfAttention: x must be [B, T, 8], found shape [2, 3, 6]');
    const cross = new CrossAttention({ dModel: 8, nHead: 2, rng: new Rng(0) });
    expect(() => cross.forward(tf.zeros([2, 3, 8]), null)).toThrow('CrossAttention: a context [B, S, kvDim] is required');
    expect(() => cross.forward(tf.zeros([2, 3, 8]), tf.zeros([2, 3, 6]))).toThrow('CrossAttention: the context must be [B, T, 8], found shape [2, 3, 6]');
    expect(() => cross.forward(tf.zeros([2, 3, 8]), tf.zeros([1, 3, 8]))).toThrow('CrossAttention: the context has batch 1, x has 2');
    expect(() => new SelfAttention({ dModel: 10, nHead: 4, rng: new Rng(0) })).toThrow(ValueError);
    expect(() => new SelfAttention({ dModel: 10, nHead: 4, rng: new Rng(0) })).toThrow('SelfAttention: dModel (10) must be a positive multiple of nHead (4)');
    expect(() => new CrossAttention({ dModel: 8, nHead: 4, nKvHead: 3, rng: new Rng(0) })).toThrow('CrossAttention: nKvHead (3) must divide nHead (4)');
  });
});
