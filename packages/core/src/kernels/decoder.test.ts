// FusedDecoder on its own: a prompt fed in one call (the packed matmul and
// attention.ts's per-head products, in blocks of 64 rows) equals the same
// tokens fed one at a time (matvec and the single-row attention), for GPT-2's
// description and a Llama-family one (RMSNorm, RoPE, 4 query heads on 2
// key/value heads of a size of their own, a SiLU gate of an odd width, q, k
// and v apart with biases, with and without a sliding window); a tied head
// (the embedding's rows) equals the same head given as embedᵀ; bad input or a
// description it cannot run is refused by name. @tx/blocks' session and Llama
// tests check it against tfjs's batched forward and PyTorch.
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

/** Llama's description: RMSNorm, RoPE, 4 query heads on 2 key/value heads of 12 channels, a SiLU gate 70 wide. */
const llama: DecoderLayout = {
  layers: 2, heads: 4, kvHeads: 2, dModel: 16, dFF: 70, vocab: 11, context: 70,
  norm: 'rmsNorm', normEps: 1e-6, activation: 'silu', gated: true, positions: 'rope', ropeTheta: 500000, headDim: 12,
};

function llamaWeights(rng: Rng): DecoderWeights {
  const { layers, dModel: C, dFF: F, vocab: V, heads, kvHeads, headDim } = llama;
  const [Q, KV] = [heads * headDim!, kvHeads * headDim!];
  const t = (...dims: number[]) => tf.tensor(Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => rng.normal() * 0.3), dims);
  const gain = () => [tf.add(1, t(C)), null] as [tf.Tensor, null];
  const linear = (inDim: number, out: number, bias = false) => [t(inDim, out), bias ? t(out) : null] as [tf.Tensor, tf.Tensor | null];
  return {
    embed: t(V, C),
    positions: null,
    normF: gain(),
    head: null,
    layers: Array.from({ length: layers }, () => ({
      norm1: gain(), qkv: { q: linear(C, Q, true), k: linear(C, KV, true), v: linear(C, KV, true) }, proj: linear(Q, C), norm2: gain(),
      up: linear(C, F), gate: linear(C, F), down: linear(F, C),
    })),
  };
}

const disposeWeights = (w: DecoderWeights) =>
  tf.dispose(
    [w.embed, w.positions, w.head, ...w.normF, ...w.layers.flatMap((l) => [...Object.values(l), ...(Array.isArray(l.qkv) ? [] : Object.values(l.qkv))].flat(2))]
      .filter((x): x is tf.Tensor => x instanceof tf.Tensor),
  );

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

  it.each([undefined, 5])('a Llama-family description: a prompt in one call equals feeding it token by token (window %s)', (window) => {
    const rng = new Rng(7);
    const weights = llamaWeights(rng);
    const described = { ...llama, ...(window ? { window } : {}) };
    const tokens = Array.from({ length: 67 }, () => rng.int(11));
    const whole = FusedDecoder.create(described, weights)!;
    const stepwise = FusedDecoder.create(described, weights)!;
    const a = whole.feedNow(tokens);
    let b: Float32Array = new Float32Array(0);
    for (const token of tokens) b = stepwise.feedNow([token]);
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-4);
    expect(maxAbsDifference(whole.feedNow([5]), stepwise.feedNow([5]))).toBeLessThan(1e-4);
    // A window hides keys: the last logits differ from the whole context's.
    const full = FusedDecoder.create(llama, weights)!;
    const seen = full.feedNow(tokens);
    if (window) expect(maxAbsDifference(seen, a)).toBeGreaterThan(1e-3);
    else expect(maxAbsDifference(seen, a)).toBe(0);
    [whole, stepwise, full].forEach((d) => d.dispose());
    disposeWeights(weights);
  });

  it('refuses a description it has no code for, saying which part', () => {
    expect(unsupported(layout)).toBeNull();
    expect(unsupported(llama)).toBeNull();
    expect(unsupported({ ...layout, dModel: 18, heads: 2 })).toBe('widths that are not multiples of 4');
    expect(unsupported({ ...layout, headDim: 6 })).toBe('widths that are not multiples of 4');
    expect(unsupported({ ...layout, dModel: 16, heads: 3 })).toBe('a head size of dModel / heads = 16 / 3');
    expect(unsupported({ ...llama, kvHeads: 3 })).toBe('4 query heads in groups of 3 key/value heads');
    expect(unsupported({ ...llama, window: 0 })).toBe('a window of 0');
    const weights = randomWeights(new Rng(6), true);
    expect(unsupported(layout, { ...weights, positions: null })).toBe('learned positions without their table');
    expect(FusedDecoder.create({ ...layout, dModel: 18, heads: 2 }, weights)).toBeNull();
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

  it("a Llama-family decoder frees its caches and RoPE's table, its clones too", async () => {
    const weights = llamaWeights(new Rng(8));
    const warm = FusedDecoder.create(llama, weights)!;
    warm.feedNow(Array.from({ length: 69 }, () => 1));
    warm.dispose();
    const { outstanding } = await wasmAllocations(async () => {
      const decoder = FusedDecoder.create(llama, weights)!;
      const first = decoder.feedNow([1, 2, 3]);
      const copy = decoder.clone();
      expect(maxAbsDifference(copy.feedNow([4]), decoder.feedNow([4]))).toBe(0);
      decoder.position = 0;
      expect(maxAbsDifference(decoder.feedNow([1, 2, 3]), first)).toBe(0);
      copy.dispose();
      decoder.dispose();
    });
    expect(outstanding).toBe(0);
    disposeWeights(weights);
  });
});
