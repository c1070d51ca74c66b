// Llama, Mistral and Qwen2 against PyTorch (tooling/fixtures/hf_llama.py: the
// forward of transformers' modeling_llama.py in float64, from the BF16 weights
// exactly as stored in two shards, on prompts as Hugging Face's tokenizers
// encoded them: an emoji through byte fallback, accented text, byte-level
// BPE): logits to 1e-4, attention probabilities to 1e-5, and 24 greedy tokens
// with the KV cache on and off, on cpu and wasm.
// Also: Hugging Face's names, llama-mini's size, the cache holding only the KV
// heads, config errors, and no leaks.
import { readFileSync } from 'node:fs';
import { TxError, initBackend, tf, unsupported } from '@tx/core';
import { expectNoLeak, flatten, maxAbsDifference as maxDiff } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { llamaConfigFromHuggingFace } from './huggingface-llama.js';
import { Llama } from './llama.js';
import { llamaMini, llamaParameters } from './llama-config.js';
import { fixtures, loadFixture } from '../../test/hf-llama.js';

interface Reference {
  prompt_ids: number[];
  logits: number[][];
  attention: number[][][][];
  generated: number[];
}
const reference = JSON.parse(readFileSync(new URL('reference.json', fixtures), 'utf8')) as Record<string, Reference>;
const ARCHS = ['llama', 'mistral', 'qwen2'] as const;


/** 24 greedy tokens after the prompt through a decoding session (what @tx/generate drives). */
async function greedy(model: Llama, prompt: number[], cache: boolean): Promise<number[]> {
  const session = model.startSession({ cache });
  const out: number[] = [];
  let next = prompt;
  for (let i = 0; i < 24; i++) {
    const { logits } = await session.feed(next);
    const id = logits.indexOf(Math.max(...logits));
    out.push(id);
    next = [id];
  }
  session.dispose();
  return out;
}

describe.each(['cpu', 'wasm'] as const)('Llama family against PyTorch on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it.each(ARCHS)('%s: logits to 1e-4, attention to 1e-5, 24 greedy tokens with and without the KV cache', async (arch) => {
    const ref = reference[arch];
    const model = await loadFixture(arch);
    const ids = tf.tensor2d([ref.prompt_ids], undefined, 'int32');
    const { logits, attention } = model.forward(ids, { returnAttention: true });
    const T = ref.prompt_ids.length;
    const lastTwo = tf.slice(logits, [0, T - 2, 0], [1, 2, -1]); // the fixture keeps the last two positions' logits
    expect(maxDiff(flatten(await lastTwo.array()), flatten([ref.logits]))).toBeLessThan(1e-4);
    lastTwo.dispose();
    expect(attention).toHaveLength(ref.attention.length);
    const probs = await Promise.all(attention!.map(async (a) => (await a.array())[0]));
    expect(maxDiff(flatten(probs), flatten(ref.attention))).toBeLessThan(1e-5);
    tf.dispose([ids, logits, ...attention!]);
    expect(await greedy(model, ref.prompt_ids, true)).toEqual(ref.generated);
    expect(await greedy(model, ref.prompt_ids, false)).toEqual(ref.generated);
    model.dispose();
  }, 120_000);
});

describe('Llama', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it("names its parameters as Hugging Face's LlamaForCausalLM, with an lm_head only when untied", async () => {
    const untied = await loadFixture('llama');
    const names = untied.namedParameters().map(([n]) => n);
    expect(names.slice(0, 6)).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.0.self_attn.o_proj.weight',
    ]);
    expect(names.slice(-2)).toEqual(['model.norm.weight', 'lm_head.weight']);
    const tied = await loadFixture('qwen2');
    expect(tied.namedParameters().map(([n]) => n)).toContain('model.layers.1.self_attn.k_proj.bias');
    expect(tied.namedParameters().map(([n]) => n)).not.toContain('lm_head.weight');
    expect(tied.namedParameters().map(([n]) => n)).not.toContain('model.layers.1.self_attn.o_proj.bias');
    // The counts the PyTorch script printed for the same state dicts.
    expect(untied.numParameters()).toBe(77_856);
    expect(tied.numParameters()).toBe(49_440);
    expect(llamaParameters(untied.config)).toBe(77_856);
    expect(llamaParameters(tied.config)).toBe(49_440);
    untied.dispose();
    tied.dispose();
  });

  it('llama-mini is W1-sized: 4 layers of 128, 4 heads sharing 2 KV heads, context 64', () => {
    const model = new Llama(llamaMini);
    // 65·128 embedding + 4 · (128·(128 + 2·64) + 128·128 + 3·128·344 + 2·128) + 128
    expect(model.numParameters()).toBe(65 * 128 + 4 * (128 * 256 + 128 * 128 + 3 * 128 * 344 + 256) + 128);
    expect(llamaParameters(llamaMini)).toBe(model.numParameters());
    // The layer description and weights @tx/core's fused decoder reads (llama-fused.test.ts decodes with them).
    expect(model.decoderLayout()).toEqual({ layers: 4, heads: 4, kvHeads: 2, dModel: 128, dFF: 344, vocab: 65, context: 64, norm: 'rmsNorm', normEps: 1e-5, activation: 'silu', gated: true, positions: 'rope', ropeTheta: 10000, headDim: 32 });
    expect(model.decoderWeights()).toBeNull(); // training mode
    const weights = model.eval().decoderWeights()!;
    expect([weights.head, weights.positions, weights.layers.length]).toEqual([null, null, 4]); // tied, RoPE
    expect(weights.layers[0].qkv).toEqual({ q: [model.layers.at(0).self_attn.q_proj.weight, null], k: [model.layers.at(0).self_attn.k_proj.weight, null], v: [model.layers.at(0).self_attn.v_proj.weight, null] });
    expect(unsupported(model.decoderLayout(), weights)).toBeNull();
    model.dispose();
  });

  it('keeps only the KV heads in its cache: [B, nKvHead, T, headDim]', async () => {
    const model = await loadFixture('mistral'); // 4 query heads, 1 KV head of 16 channels
    const cache = model.createCache();
    const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
    const out = model.forward(ids, { cache });
    expect(cache[0].k!.shape).toEqual([1, 1, 3, 16]);
    expect(cache[1].v!.shape).toEqual([1, 1, 3, 16]);
    tf.dispose([ids, out.logits]);
    cache.forEach((c) => c.dispose());
    model.dispose();
  });

  it('loads a tied head given as lm_head.weight only when it equals the embedding', async () => {
    const model = await loadFixture('qwen2');
    const sd = model.stateDict();
    sd['lm_head.weight'] = tf.clone(sd['model.embed_tokens.weight']);
    expect(() => model.loadStateDict(sd)).not.toThrow();
    sd['lm_head.weight'].dispose();
    sd['lm_head.weight'] = tf.zerosLike(sd['model.embed_tokens.weight']);
    expect(() => model.loadStateDict(sd)).toThrow('lm_head.weight differs from model.embed_tokens.weight');
    tf.dispose(Object.values(sd));
    model.dispose();
  });

  it('refuses a bad config in one line naming the field', () => {
    expect(() => new Llama({ ...llamaMini, nKvHead: 3 })).toThrow(new TxError('bad LlamaConfig: nHead (4) must be divisible by nKvHead (3)'));
    expect(() => new Llama({ ...llamaMini, headDim: 31 })).toThrow('headDim (31) must be even');
  });

  it('leaks no tensors in forward, backward and decoding', async () => {
    const model = new Llama({ ...llamaMini, nLayer: 1, slidingWindow: 8 });
    const ids = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
    await expectNoLeak(() => {
      const out = model.forward(ids, { returnAttention: true });
      tf.dispose([out.logits, ...out.attention!]);
    }, { warmup: 1 });
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(model.forward(ids).logits) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    }, { warmup: 1 });
    await expectNoLeak(async () => {
      const s = model.startSession();
      await s.feed([1, 2]);
      await s.feed([3]);
      s.dispose();
    }, { warmup: 1 });
    ids.dispose();
    model.dispose();
  });
});

describe('llamaConfigFromHuggingFace', () => {
  const base = { model_type: 'llama', vocab_size: 100, hidden_size: 32, intermediate_size: 50, num_hidden_layers: 1, num_attention_heads: 4, max_position_embeddings: 16 };

  it("takes transformers' defaults: KV heads = heads, head_dim = hidden / heads, eps 1e-6, theta 10000, an untied head", () => {
    expect(llamaConfigFromHuggingFace(base)).toEqual({ vocabSize: 100, blockSize: 16, nLayer: 1, nHead: 4, nKvHead: 4, nEmbd: 32, headDim: 8, intermediateSize: 50, rmsNormEps: 1e-6, ropeTheta: 10000, qkvBias: false, oBias: false, slidingWindow: null, tieWordEmbeddings: false });
    expect(llamaConfigFromHuggingFace({ ...base, attention_bias: true })).toMatchObject({ qkvBias: true, oBias: true });
    expect(llamaConfigFromHuggingFace({ ...base, model_type: 'qwen2', sliding_window: 4, use_sliding_window: false })).toMatchObject({ qkvBias: true, oBias: false, slidingWindow: null });
    expect(llamaConfigFromHuggingFace({ ...base, model_type: 'mistral', sliding_window: 4, head_dim: null })).toMatchObject({ slidingWindow: 4, headDim: 8 });
  });

  it('names what it cannot run, in one line', () => {
    const where = 'm/config.json';
    expect(() => llamaConfigFromHuggingFace({ ...base, model_type: 'gemma', architectures: ['GemmaForCausalLM'] }, where)).toThrow(`${where}: unsupported architecture "GemmaForCausalLM" (model_type "gemma"): tx imports LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM`);
    expect(() => llamaConfigFromHuggingFace({ ...base, hidden_act: 'gelu' }, where)).toThrow(`${where}: hidden_act "gelu" is not supported (the gated MLP is "silu")`);
    expect(() => llamaConfigFromHuggingFace({ ...base, mlp_bias: true }, where)).toThrow(`${where}: mlp_bias true is not supported`);
    expect(() => llamaConfigFromHuggingFace({ ...base, rope_scaling: { type: 'linear', factor: 2 } }, where)).toThrow(`${where}: rope_scaling "linear" is not implemented`);
    expect(() => llamaConfigFromHuggingFace({ ...base, num_key_value_heads: 3 }, where)).toThrow(`${where}: num_attention_heads (4) is not divisible by num_key_value_heads (3)`);
    expect(() => llamaConfigFromHuggingFace({ ...base, head_dim: 7 }, where)).toThrow(`${where}: head_dim 7 is odd: RoPE rotates pairs of channels`);
    expect(() => llamaConfigFromHuggingFace({ ...base, hidden_size: 30 }, where)).toThrow(`${where}: hidden_size (30) is not divisible by num_attention_heads (4) and there is no head_dim`);
    expect(() => llamaConfigFromHuggingFace({ ...base, vocab_size: -1 }, where)).toThrow(`${where}: vocab_size must be a positive integer, got -1`);
  });
});
