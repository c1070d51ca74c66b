import { describe, expect, it } from 'vitest';
import { presets } from '@tx/blocks';
import { decoderNeed, inspectNeed, parseBytes, refusal, windowBatch, type Budget } from './memory.js';

const gpt2 = { ...presets.gpt2 };

describe('inspectNeed', () => {
  it("GPT-2 at 1,024 tokens: @tx/blocks' estimate, the tied head's transpose, and every layer's attention", () => {
    const need = inspectNeed(gpt2, 1024);
    // Weights: 124,439,808 parameters x 4 bytes. Activations (one layer at a time): per token
    // 4·768 + 2·3072 + 2·12·1024 + 2·50257 = 134,306 floats, x 1,024 tokens x 4 bytes = 550,117,376.
    // The head's transpose 50,257 x 768 x 4 = 154,389,504; attention 12 x 12 x 1,024² x 4 = 603,979,776.
    expect(need.weights).toBe(497_759_232);
    expect(need.attention).toBe(603_979_776);
    expect(need.total).toBe(497_759_232 + 550_117_376 + 154_389_504 + 603_979_776);
    expect(need.largest).toEqual({ what: 'the logits (1,024 × 50,257)', bytes: 205_852_672 });
  });

  it('past the context: a batch of windows, and their attention too', () => {
    const small = { vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true };
    expect(windowBatch(small)).toBe(64); // 2^24 / (64·65 + 2·4·64²) = 454, at most 64
    expect(windowBatch({ ...gpt2, blockSize: 128 })).toBe(1); // 2^24 / (128·50257 + 144·128²) = 1.9
    const need = inspectNeed(small, 1024);
    expect(need.attention).toBe(2 * 4 * 1024 * 1024 * 4 + 2 * 64 * 4 * 64 * 64 * 4); // the picture, plus 64 windows' own
    expect(need.largest).toEqual({ what: "one layer's attention (4 × 1,024 × 1,024)", bytes: 16_777_216 });
  });
});

describe('refusal', () => {
  const need = inspectNeed(gpt2, 1024);
  const wasm: Budget = { total: 2 ** 32, tensor: null, totalFrom: "the wasm backend's heap", tensorFrom: 'the wasm backend' };
  it('lets GPT-2 onto wasm, unless the models loaded leave too little room', () => {
    expect(refusal(need, wasm)).toBeNull();
    expect(refusal(need, wasm, 3e9)).toBe("it needs about 1.8 GB (weights 497.8 MB, attention 604.0 MB) beside the 3.0 GB of the models already loaded, more than the 4.3 GB of the wasm backend's heap");
  });

  it("refuses a tensor larger than the adapter's largest buffer, and a cap set by ?memory=", () => {
    const webgpu: Budget = { total: null, tensor: 134_217_728, totalFrom: 'the webgpu backend', tensorFrom: 'this WebGPU adapter' };
    expect(refusal(need, webgpu)).toBe('its largest tensor, the logits (1,024 × 50,257), takes 205.9 MB, more than the 134.2 MB buffer limit of this WebGPU adapter');
    expect(refusal(need, { ...webgpu, tensor: 2 ** 30 })).toBeNull();
    expect(refusal(need, { ...wasm, total: 1e9, totalFrom: 'what this page may use (?memory=)' })).toBe('it needs about 1.8 GB (weights 497.8 MB, attention 604.0 MB), more than the 1.0 GB of what this page may use (?memory=)');
  });

  it('reads ?memory= sizes', () => {
    expect(['8MB', '1.5 GB', '512kB', '1000', ' 2 mb ', 'lots', '-1MB'].map(parseBytes)).toEqual([8e6, 1.5e9, 512e3, 1000, 2e6, null, null]);
  });
});

describe('decoderNeed', () => {
  it('counts a Llama the size of SmolLM2-135M: every layer\'s 9 query heads at 1,024 tokens, the logits its largest tensor', () => {
    const smol = { vocabSize: 49152, blockSize: 8192, nLayer: 30, nHead: 9, nKvHead: 3, nEmbd: 576, headDim: 64, intermediateSize: 1536, rmsNormEps: 1e-5, ropeTheta: 100000, qkvBias: false, oBias: false, slidingWindow: null, tieWordEmbeddings: true };
    const need = decoderNeed({ kind: 'llama', config: smol }, 1024);
    expect(need.attention).toBe(30 * 9 * 1024 * 1024 * 4); // 1.13 GB
    expect(need.largest).toEqual({ what: 'the logits (1,024 × 49,152)', bytes: 1024 * 49152 * 4 }); // 201 MB, more than the embedding's 113 MB
    expect(need.total).toBeGreaterThan(need.attention + need.weights);
  });
});
