// @tx/generate driving a real GPT from @tx/blocks.
import { beforeAll, describe, expect, it } from 'vitest';
import { EncoderDecoderTransformer, GPT } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { beamSearch } from './beam.js';
import { generate } from './generate.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

// Random weights with a larger init spread, so greedy decoding is not a constant loop.
function model(blockSize: number): GPT {
  const gpt = new GPT({ vocabSize: 17, blockSize, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true }, { rng: new Rng(4) });
  const rng = new Rng(5);
  for (const [, v] of gpt.namedParameters()) if (v.rank === 2) v.assign(tf.tidy(() => tf.mul(v, 1 + rng.random() * 20)));
  return gpt.eval();
}

describe('generate with a GPT', () => {
  it('the KV cache gives the same 200 greedy tokens as recomputing the whole context', async () => {
    const gpt = model(256);
    const cached = await generate(gpt, [1, 2, 3], { greedy: true, maxNewTokens: 200, cache: true });
    const recomputed = await generate(gpt, [1, 2, 3], { greedy: true, maxNewTokens: 200, cache: false });
    expect(cached.ids).toHaveLength(200);
    expect(new Set(cached.ids).size).toBeGreaterThan(3);
    expect(cached.ids).toEqual(recomputed.ids);
    cached.tokens.forEach((t, i) => expect(t.logprob).toBeCloseTo(recomputed.tokens[i].logprob, 4));
    gpt.dispose();
  });

  it('goes past the context: crop equals recomputation with or without the cache; restart is its own policy', async () => {
    const gpt = model(8);
    const crop = await generate(gpt, [1, 2, 3, 4, 5, 6], { greedy: true, maxNewTokens: 40 });
    expect((await generate(gpt, [1, 2, 3, 4, 5, 6], { greedy: true, maxNewTokens: 40, cache: false })).ids).toEqual(crop.ids);
    const restart = await generate(gpt, [1, 2, 3, 4, 5, 6], { greedy: true, maxNewTokens: 40, contextOverflow: 'restart' });
    expect(restart.ids).toHaveLength(40);
    expect(restart.ids.slice(0, 2)).toEqual(crop.ids.slice(0, 2)); // the same while the text fits the context
    gpt.dispose();
  });

  it('keeps tf.memory().numTensors flat over 500 generated tokens', async () => {
    const gpt = model(64);
    await expectNoLeak(() => generate(gpt, [1], { maxNewTokens: 500, seed: 9, topK: 5, attention: true }), { label: '500 tokens' });
    gpt.dispose();
  });

  it('reports each step\'s attention over the keys seen so far', async () => {
    const gpt = model(64);
    const out = await generate(gpt, [1, 2], { greedy: true, maxNewTokens: 3, attention: true });
    expect(out.tokens[0].attention).toHaveLength(2); // layers
    expect(out.tokens[0].attention![0]).toHaveLength(2); // heads
    expect(out.tokens[0].attention![0][0]).toHaveLength(2); // keys: the prompt
    expect(out.tokens[2].attention![1][1]).toHaveLength(4);
    expect(out.tokens[2].attention![1][1].reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    gpt.dispose();
  });

  it('beam search with one beam equals greedy, and more beams never score worse', async () => {
    const gpt = model(64);
    const greedy = await generate(gpt, [1], { greedy: true, maxNewTokens: 6 });
    const one = await beamSearch(gpt, [1], { beams: 1, maxNewTokens: 6 });
    expect(one.ids).toEqual(greedy.ids);
    const four = await beamSearch(gpt, [1], { beams: 4, maxNewTokens: 6, lengthPenalty: 0 });
    expect(four.logprob).toBeGreaterThanOrEqual(one.logprob - 1e-6);
    await expectNoLeak(() => beamSearch(gpt, [1], { beams: 3, maxNewTokens: 5 }));
    gpt.dispose();
  });
});

describe('generate with an encoder-decoder', () => {
  it('greedy, sampling and beam search run on a model conditioned on its source, without leaks', async () => {
    const model = new EncoderDecoderTransformer(
      { srcVocabSize: 12, tgtVocabSize: 12, blockSize: 16, nEncoderLayer: 1, nDecoderLayer: 1, nHead: 2, dModel: 16, dFF: 32, dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu' },
      { rng: new Rng(3) },
    ).eval();
    const rng = new Rng(8);
    for (const [, v] of model.namedParameters()) if (v.rank === 2) v.assign(tf.tidy(() => tf.mul(v, 1 + rng.random() * 20)));
    await expectNoLeak(async () => {
      const lm = model.conditionOn([3, 4, 5, 0], { padId: 0 });
      const greedy = await generate(lm, [1], { greedy: true, maxNewTokens: 8, eosId: 2 });
      const one = await beamSearch(lm, [1], { beams: 1, maxNewTokens: 8, eosId: 2 });
      expect(one.ids).toEqual(greedy.ids);
      const three = await beamSearch(lm, [1], { beams: 3, maxNewTokens: 8, eosId: 2, lengthPenalty: 0 });
      expect(three.logprob).toBeGreaterThanOrEqual(one.logprob - 1e-6);
      // The source matters: another source gives other logits.
      const other = model.conditionOn([7, 8, 9, 10], { padId: 0 });
      const a = await lm.startSession().feed([1]);
      const b = await other.startSession().feed([1]);
      expect(Array.from(a.logits)).not.toEqual(Array.from(b.logits));
      lm.dispose();
      other.dispose();
    });
    model.dispose();
  });
});
