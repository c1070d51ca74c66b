import { Rng, initBackend } from '@tx/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { presets, type EncoderDecoderConfig, type GPTConfig } from './config.js';
import { EncoderDecoderTransformer } from './encoder-decoder.js';
import { GPT } from './gpt.js';
import { encoderDecoderParameters, estimateGPTMemory, gptParameters } from './memory.js';

describe('memory estimates', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each<[string, GPTConfig]>([
    ['nanogpt-cpu', { ...presets['nanogpt-cpu'] }],
    ['with biases', { vocabSize: 30, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 12, dropout: 0, bias: true }],
  ])('counts the parameters of a GPT exactly (%s)', (_, config) => {
    const model = new GPT(config, { rng: new Rng(1) });
    expect(gptParameters(config)).toBe(model.numParameters());
    model.dispose();
  });

  it('nanogpt-cpu with vocabulary 65 has 804,096 parameters (docs/performance.md §5)', () => {
    expect(gptParameters({ ...presets['nanogpt-cpu'], vocabSize: 65 })).toBe(804_096);
  });

  const base: EncoderDecoderConfig = { srcVocabSize: 20, tgtVocabSize: 20, blockSize: 10, nEncoderLayer: 2, nDecoderLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu' };
  it.each<[string, EncoderDecoderConfig]>([
    ['shared, tied, pre-norm', base],
    ['separate, untied, post-norm, no bias', { ...base, srcVocabSize: 13, sharedEmbeddings: false, tieOutput: false, norm: 'post', bias: false }],
    ['untied with bias', { ...base, tieOutput: false }],
  ])('counts the parameters of an encoder-decoder exactly (%s)', (_, config) => {
    const model = new EncoderDecoderTransformer(config, { rng: new Rng(1) });
    expect(encoderDecoderParameters(config)).toBe(model.numParameters());
    model.dispose();
  });

  it('training costs four copies of the weights plus the activations; 1e9 layers is about 8e14 bytes, not an overflow', () => {
    const config = { ...presets['nanogpt-cpu'], vocabSize: 65 };
    const inference = estimateGPTMemory(config, { batchSize: 1, training: false });
    const training = estimateGPTMemory(config, { batchSize: 12, training: true });
    expect(inference.parameterBytes).toBe(804_096 * 4);
    expect(training.parameterBytes).toBe(804_096 * 16);
    // 12 x 64 tokens, 4 layers of (20·128 + 3·4·64) floats, plus the logits 3 x 65: hand-computed.
    expect(training.activationBytes).toBe(12 * 64 * (4 * (20 * 128 + 3 * 4 * 64) + 3 * 65) * 4);
    const huge = estimateGPTMemory({ ...config, nLayer: 1e9 }, { batchSize: 1, training: false });
    expect(huge.parameterBytes).toBe(gptParameters({ ...config, nLayer: 1e9 }) * 4);
    expect(huge.totalBytes).toBeGreaterThan(7.8e14);
    expect(Number.isFinite(huge.totalBytes)).toBe(true);
  });
});
