// FusedDecoder on its own: a prompt fed in one call (the packed matmul and
// attention.ts's per-head products, in blocks of 64 rows) equals the same
// tokens fed one at a time (matvec and the single-row attention), with no
// tfjs kernel run, and bad input is refused by name. @tx/blocks' session tests check both against
// tfjs's batched forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { ValueError } from '../errors.js';
import { Rng } from '../rng.js';
import { maxAbsDifference, wasmAllocations } from '../testing.js';
import { tf } from '../tf.js';
import { FusedDecoder, type DecoderShape, type DecoderWeights } from './decoder.js';

const shape: DecoderShape = { nLayer: 2, nHead: 2, nEmbd: 16, vocabSize: 11, blockSize: 70, activation: 'gelu', layerNormEps: 1e-5 };

function randomWeights(rng: Rng, bias: boolean): DecoderWeights {
  const { nLayer, nEmbd: C, vocabSize: V, blockSize: T } = shape;
  const t = (...dims: number[]) => tf.tensor(Float32Array.from({ length: dims.reduce((a, b) => a * b) }, () => rng.normal() * 0.3), dims);
  const affine = (inDim: number, out: number) => [t(inDim, out), bias ? t(out) : null] as [tf.Tensor, tf.Tensor | null];
  const norm = () => [tf.add(1, t(C)), bias ? t(C) : null] as [tf.Tensor, tf.Tensor | null];
  return {
    wte: t(V, C),
    wpe: t(T, C),
    lnF: norm(),
    head: t(C, V),
    layers: Array.from({ length: nLayer }, () => ({ ln1: norm(), attn: affine(C, 3 * C), proj: affine(C, C), ln2: norm(), fc: affine(C, 4 * C), mlp: affine(4 * C, C) })),
  };
}

const disposeWeights = (w: DecoderWeights) => tf.dispose([w.wte, w.wpe, w.head, ...w.lnF, ...w.layers.flatMap((l) => Object.values(l).flat())].filter((x): x is tf.Tensor => x !== null));

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
    const whole = FusedDecoder.create(shape)!;
    const stepwise = FusedDecoder.create(shape)!;
    const a = whole.feed(tokens, weights);
    let b: Float32Array = new Float32Array(0);
    for (const token of tokens) b = stepwise.feed([token], weights);
    expect(whole.position).toBe(67);
    expect(a).toHaveLength(11);
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-4);
    // Both caches now hold the same 67 positions: the next step agrees too, and a restart from 0 gives the first call's logits.
    expect(maxAbsDifference(whole.feed([5], weights), stepwise.feed([5], weights))).toBeLessThan(1e-4);
    whole.position = 0;
    expect(maxAbsDifference(whole.feed(tokens, weights), a)).toBe(0);
    whole.dispose();
    stepwise.dispose();
    disposeWeights(weights);
  });

  it('refuses what it cannot do, by name, and frees its caches', async () => {
    const weights = randomWeights(new Rng(4), true);
    const warm = FusedDecoder.create(shape)!; // sizes the kernels' shared scratch, which stays
    warm.feed(Array.from({ length: 69 }, () => 1), weights);
    warm.dispose();
    const { outstanding } = await wasmAllocations(async () => {
      const decoder = FusedDecoder.create(shape)!;
      expect(() => decoder.feed([], weights)).toThrow(new ValueError('FusedDecoder.feed: needs at least one token'));
      expect(() => decoder.feed([11], weights)).toThrow(new ValueError('FusedDecoder: token 11 is not in [0, 10]'));
      decoder.feed(Array.from({ length: 69 }, () => 1), weights);
      expect(() => decoder.feed([1, 2], weights)).toThrow(new ValueError('FusedDecoder: 2 token(s) at position 69 go past the context (70)'));
      const disposed = tf.scalar(1);
      disposed.dispose();
      expect(() => decoder.feed([1], { ...weights, wpe: disposed })).toThrow(new ValueError("FusedDecoder: the weight in slot 1 of the decoder's table was disposed"));
      decoder.dispose();
      decoder.dispose();
      expect(() => decoder.feed([1], weights)).toThrow(new ValueError('FusedDecoder: used after dispose()'));
    });
    expect(outstanding).toBe(0);
    disposeWeights(weights);
  });
});
