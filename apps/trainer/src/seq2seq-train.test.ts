import { beforeAll, describe, expect, it } from 'vitest';
import { EncoderDecoderTransformer } from '@tx/blocks';
import { Rng, initBackend } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { greedyDecode, seq2seqTokenizer } from './seq2seq-train.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('greedyDecode', () => {
  it('decodes a batch of sources without leaking tensors, and leaks nothing when the source is too long', async () => {
    const tokenizer = seq2seqTokenizer('copy');
    const model = new EncoderDecoderTransformer(
      { srcVocabSize: tokenizer.vocabSize, tgtVocabSize: tokenizer.vocabSize, maxLen: 16, nEncoderLayer: 1, nDecoderLayer: 1, nHead: 2, dModel: 16, dFF: 32, dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu' },
      { rng: new Rng(1) },
    );
    const outputs = await expectNoLeak(() => greedyDecode(model, tokenizer, ['abc', 'hello', 'x'], 12), { label: 'greedyDecode' });
    expect(outputs).toHaveLength(3);
    for (const o of outputs) expect(o.length).toBeLessThanOrEqual(12);
    expect(model.training).toBe(true); // restored after decoding in eval mode
    await expectNoLeak(() => expect(greedyDecode(model, tokenizer, ['a'.repeat(40)], 12)).rejects.toThrow(/longer than maxLen 16/));
    model.dispose();
  });
});
