import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { presets } from '@tx/blocks';
import { exportManifest } from '@tx/train';
import { findHuggingFaceFiles, isHuggingFaceConfig, planFolder } from './files.js';

// The Hugging Face fixture's config.json (GPT-2's fields, 2 layers, context 64).
const hf = JSON.parse(readFileSync(new URL('../../../../packages/blocks/test/fixtures/hf-gpt2/f32/config.json', import.meta.url), 'utf8'));
const tx = exportManifest('names', { kind: 'gpt', config: { ...presets['nanogpt-cpu'] } });

describe('planFolder', () => {
  it('recognises a Hugging Face GPT-2 folder and its tokenizer files, tokenizer.json first', () => {
    const plan = planFolder(hf, ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json'], 'f32');
    expect(plan.kind).toBe('huggingface');
    if (plan.kind !== 'huggingface') return;
    expect([plan.weights, plan.tokenizer]).toEqual(['model.safetensors', ['tokenizer.json']]);
    expect([plan.config.nLayer, plan.config.nHead, plan.config.nEmbd, plan.config.blockSize, plan.config.vocabSize]).toEqual([2, 2, 64, 64, 297]);
    expect((planFolder(hf, ['merges.txt', 'config.json', 'vocab.json', 'model.safetensors'], 'f16') as { tokenizer: unknown }).tokenizer).toEqual(['vocab.json', 'merges.txt']);
    expect((planFolder(hf, ['config.json', 'vocab.json', 'merges.txt', 'tokenizer.json', 'model.safetensors'], 'x') as { tokenizer: unknown }).tokenizer).toEqual(['tokenizer.json']);
    expect((planFolder(hf, ['config.json', 'tx-tokenizer.json', 'model.safetensors'], 'x') as { tokenizer: unknown }).tokenizer).toEqual(['tx-tokenizer.json']);
  });

  it('names what is missing or unsupported, in one line', () => {
    expect(() => planFolder(hf, ['config.json', 'model.safetensors', 'vocab.json'], 'picked')).toThrow('picked: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt (found config.json, model.safetensors, vocab.json)');
    expect(() => planFolder(hf, ['config.json', 'tokenizer.json'], 'picked')).toThrow('picked: missing model.safetensors (found config.json, tokenizer.json)');
    expect(() => planFolder(hf, ['config.json', 'tokenizer.json', 'pytorch_model.bin'], 'picked')).toThrow('picked: pytorch_model.bin is not read; save the model with safe_serialization=True to get model.safetensors');
    expect(() => planFolder(hf, ['config.json', 'tokenizer.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors'], 'picked')).toThrow('picked: the weights are sharded (model.safetensors.index.json); the site reads one model.safetensors');
    expect(() => planFolder({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }, ['config.json'], 'picked')).toThrow('picked/config.json: unsupported architecture "LlamaForCausalLM" (model_type "llama"): tx imports GPT-2 (model_type "gpt2")');
    expect(() => planFolder({ hello: 1 }, ['config.json'], 'picked')).toThrow('picked/config.json: not a model config: expected a `tx export` manifest ("format": "tx-export") or a Hugging Face config ("model_type": "gpt2")');
  });

  it('recognises a `tx export` folder by its manifest, whose files it names', () => {
    expect(planFolder(tx, ['config.json', 'tokenizer.json', 'model.safetensors'], 'export')).toEqual({ kind: 'tx', weights: 'model.safetensors', tokenizer: 'tokenizer.json' });
    expect(planFolder(tx, null, 'https://example.org/export')).toEqual({ kind: 'tx', weights: 'model.safetensors', tokenizer: 'tokenizer.json' }); // a URL: the manifest is enough
    expect(() => planFolder(tx, ['config.json', 'model.safetensors'], 'export')).toThrow('export: missing tokenizer.json: pick config.json, tokenizer.json and model.safetensors together');
  });

  it('tells the two configs apart', () => {
    expect([hf, tx, { model_type: 'gpt2' }, { architectures: [] }, {}, null].map(isHuggingFaceConfig)).toEqual([true, false, true, true, false, false]);
  });
});

describe('findHuggingFaceFiles', () => {
  const asking = (there: string[]) => {
    const asked: string[] = [];
    return { asked, has: async (n: string) => { asked.push(n); return there.includes(n); } };
  };

  it('asks only what decides the plan: two questions for a folder as the Hub has it', async () => {
    const hub = asking(['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt']);
    expect(await findHuggingFaceFiles(hub.has)).toEqual(['model.safetensors', 'tokenizer.json']);
    expect(hub.asked).toEqual(['model.safetensors', 'tokenizer.json']);
    const f16 = asking(['model.safetensors', 'vocab.json', 'merges.txt']);
    expect(await findHuggingFaceFiles(f16.has)).toEqual(['model.safetensors', 'vocab.json', 'merges.txt']);
    expect(f16.asked).toEqual(['model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt']);
    const bin = asking(['pytorch_model.bin', 'vocab.json']);
    expect(await findHuggingFaceFiles(bin.has)).toEqual(['pytorch_model.bin', 'vocab.json']);
    expect(bin.asked).toEqual(['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'tokenizer.json', 'vocab.json', 'merges.txt', 'tx-tokenizer.json']);
    expect(() => planFolder(hf, ['pytorch_model.bin', 'vocab.json'], 'u')).toThrow('u: pytorch_model.bin is not read');
  });
});
