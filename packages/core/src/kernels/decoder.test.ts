// FusedDecoder on its own: a prompt fed in one call (the packed matmul and
// attention.ts's per-head products, in blocks of 64 rows) equals the same
// tokens fed one at a time (matvec and the single-row attention), a tied head
// (the embedding's rows) equals the same head given as embedᵀ, and bad input
// or a description it cannot run is refused by name. @tx/blocks' session
// tests check it against tfjs's batched forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { ValueError } from '../errors.js';
import { Rng } from '../rng.js';
import { maxAbsDifference, wasmAllocations } from '../testing.js';
import { tf } from '../tf.js';
import { FusedDecoder, unsupported, type DecoderLayout, type DecoderWeights } from './decoder.js';

const layout: DecoderLayout = {
  layers: 2, heads: 2, kvHeads: 2, dModel: 16, dFF: 64, vocab: 11, context: 70,
  norm: 'layerNorm', normEps: 1e-5, activation: 'gelu', gated: false, positions: 'learned',
};

function randomWeights(rng: Rng, bias: boolean, tied = false): DecoderWeights {
  const { layers, dModel: C, dFF: F, vocab: V, context: T } = layout;
  const t = (...dims: number[]) => tf.tensor(Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => rng.normal() * 0.3), dims);
  const affine = (inDim: number, out: number) => [t(inDim, out), bias ? t(out) : null] as [tf.Tensor, tf.Tensor | null];
  const norm = () => [tf.add(1, t(C)), bias ? t(C) : null] as [tf.Tensor, tf.Tensor | null];
  const embed = t(V, C);
  return {
    embed,
    positions: t(T, C),
    normF: norm(),
    head: tied ? null : t(C, V),
    layers: Array.from({ length: layers }, () => ({ norm1: norm(), qkv: affine(C, 3 * C), proj: affine(C, C), norm2: norm(), up: affine(C, F), gate: null, down: affine(F, C) })),
  };
}

const disposeWeights = (w: DecoderWeights) =>
  tf.dispose([w.embed, w.positions, w.head, ...w.normF, ...w.layers.flatMap((l) => Object.values(l).flat(2))].filter((x): x is tf.Tensor => x !== null));

describe('FusedDecoder', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each([true, false])('a prompt in one call (blocks of 64 rows) equals feeding it token by token (bias %s)', (bias) => {
    const rng = new Rng(3);
    const weights = randomWeights(rng, bias);
    const tokens = Array.from({ length: 67 }, () => rng.int(11));
    const whole = FusedDecoder.create(layout, weights)!;
    const stepwise = FusedDecoder.create(layout, weights)!;
    const a = whole.feedNow(tokens);
    let b: Float32Array = new Float32Array(0);
    for (const token of tokens) b = stepwise.feedNow([token]);
    expect(whole.position).toBe(67);
    expect(a).toHaveLength(11);
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-4);
    // Both caches now hold the same 67 positions: the next step agrees too, and a restart from 0 gives the first call's logits.
    expect(maxAbsDifference(whole.feedNow([5]), stepwise.feedNow([5]))).toBeLessThan(1e-4);
    whole.position = 0;
    expect(maxAbsDifference(whole.feedNow(tokens), a)).toBe(0);
    whole.dispose();
    stepwise.dispose();
    disposeWeights(weights);
  });

  it('a tied head reads the embedding rows: the logits of head = embedᵀ, with no copy kept', async () => {
    const weights = randomWeights(new Rng(5), true, true);
    const transposed = tf.transpose(weights.embed);
    const tied = FusedDecoder.create(layout, weights)!;
    const explicit = FusedDecoder.create(layout, { ...weights, head: transposed })!;
    const tokens = [1, 4, 9, 2, 7];
    // 11 logits: two blocks of four rows, then a tail of three, in rowDots.
    expect(maxAbsDifference((await tied.feed(tokens)).logits, (await explicit.feed(tokens)).logits)).toBeLessThan(1e-5);
    tied.dispose();
    explicit.dispose();
    transposed.dispose();
    disposeWeights(weights);
  });

  it('refuses a description it has no code for, saying which part', () => {
    const weights = randomWeights(new Rng(6), true);
    expect(unsupported(layout)).toBeNull();
    expect(unsupported({ ...layout, norm: 'rmsNorm' })).toBe('norm rmsNorm');
    expect(unsupported({ ...layout, positions: 'rope' })).toBe('positions rope');
    expect(unsupported({ ...layout, activation: 'silu', gated: true })).toBe('a gated or SiLU feed-forward');
    expect(unsupported({ ...layout, kvHeads: 1 })).toBe('fewer key/value heads than query heads');
    expect(unsupported({ ...layout, dModel: 18, heads: 2 })).toBe('widths that are not multiples of 4');
    expect(unsupported({ ...layout, headDim: 16 })).toBe('a head size other than dModel / heads');
    expect(unsupported({ ...layout, headDim: 8, window: 70 })).toBeNull(); // what GPT-2 has anyway: heads of dModel / heads, the whole context
    expect(unsupported({ ...layout, window: 32 })).toBe('a sliding window');
    const [q, k, v] = [0, 1, 2].map(() => [tf.zeros([16, 16]), null] as [tf.Tensor, null]);
    const apart = { ...weights, layers: weights.layers.map((l) => ({ ...l, qkv: { q, k, v } })) };
    expect(unsupported(layout, apart)).toBe('q, k and v held apart');
    expect(FusedDecoder.create(layout, apart)).toBeNull();
    tf.dispose([q[0], k[0], v[0]]);
    expect(FusedDecoder.create({ ...layout, norm: 'rmsNorm' }, weights)).toBeNull();
    disposeWeights(weights);
  });

  it('refuses what it cannot do, by name, and frees its caches', async () => {
    const weights = randomWeights(new Rng(4), true);
    const warm = FusedDecoder.create(layout, weights)!; // sizes the kernels' shared scratch, which stays
    warm.feedNow(Array.from({ length: 69 }, () => 1));
    warm.dispose();
    const { outstanding } = await wasmAllocations(async () => {
      const decoder = FusedDecoder.create(layout, weights)!;
      expect(() => decoder.feedNow([])).toThrow(new ValueError('FusedDecoder.feed: needs at least one token'));
      await expect(decoder.feed([11])).rejects.toThrow(new ValueError('FusedDecoder: token 11 is not in [0, 10]'));
      decoder.feedNow(Array.from({ length: 69 }, () => 1));
      expect(() => decoder.feedNow([1, 2])).toThrow(new ValueError('FusedDecoder: 2 token(s) at position 69 go past the context (70)'));
      const disposed = tf.scalar(1);
      disposed.dispose();
      const stale = FusedDecoder.create(layout, { ...weights, positions: disposed })!;
      expect(() => stale.feedNow([1])).toThrow(new ValueError('FusedDecoder: the weight positions was disposed'));
      stale.dispose();
      decoder.dispose();
      decoder.dispose();
      expect(() => decoder.feedNow([1])).toThrow(new ValueError('FusedDecoder: used after dispose()'));
    });
    expect(outstanding).toBe(0);
    disposeWeights(weights);
  });
});
