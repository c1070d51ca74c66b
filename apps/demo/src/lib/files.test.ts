import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { presets } from '@tx/blocks';
import { exportManifest } from '@tx/train';
import { findHuggingFaceFiles, isHuggingFaceConfig, planFolder, shardsOf } from './files.js';

// The Hugging Face fixture's config.json (GPT-2's fields, 2 layers, context 64).
const hf = JSON.parse(readFileSync(new URL('../../../../packages/blocks/test/fixtures/hf-gpt2/f32/config.json', import.meta.url), 'utf8'));
const tx = exportManifest('names', { kind: 'gpt', config: { ...presets['nanogpt-cpu'] } });

// A Llama-family fixture's config.json (tooling/fixtures/hf_llama.py: 2 layers, 4 heads, 2 KV heads, sharded).
const llama = JSON.parse(readFileSync(new URL('../../../../packages/blocks/test/fixtures/hf-llama/llama/config.json', import.meta.url), 'utf8'));
const index = JSON.parse(readFileSync(new URL('../../../../packages/blocks/test/fixtures/hf-llama/llama/model.safetensors.index.json', import.meta.url), 'utf8'));

describe('a Llama-family folder', () => {
  it('is planned from its index when sharded, as a Llama with its KV heads', () => {
    const plan = planFolder(llama, ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'tokenizer.json'], 'tiny');
    if (plan.kind !== 'huggingface' || plan.spec.kind !== 'llama') throw new Error(`expected a Llama plan, got ${JSON.stringify(plan)}`);
    expect([plan.weights, plan.tokenizer]).toEqual(['model.safetensors.index.json', ['tokenizer.json']]);
    expect([plan.spec.config.nLayer, plan.spec.config.nHead, plan.spec.config.nKvHead, plan.spec.config.headDim]).toEqual([2, 4, 2, 8]);
  });

  it('reads the shards from the index: plain names beside it, each one there', () => {
    const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    expect(shardsOf(index, names, 'tiny').shards).toEqual(names);
    expect(shardsOf(index, null, 'tiny').weightMap['model.norm.weight']).toBe(index.weight_map['model.norm.weight']);
    expect(() => shardsOf(index, names.slice(0, 1), 'tiny')).toThrow('tiny/model.safetensors.index.json: shard "model-00002-of-00002.safetensors" is missing: pick it with the model\'s other files');
    expect(() => shardsOf({ weight_map: { a: '/etc/passwd' } }, null, 'tiny')).toThrow('tiny/model.safetensors.index.json: shard "/etc/passwd" is outside the folder; an index names files beside it');
    expect(() => shardsOf({ weight_map: { a: '..' } }, null, 'tiny')).toThrow('shard ".." is outside the folder');
    expect(() => shardsOf({ weight_map: { a: 3 } }, null, 'tiny')).toThrow('tiny/model.safetensors.index.json: weight_map["a"] must be a shard\'s file name, got 3');
    expect(() => shardsOf({}, null, 'tiny')).toThrow('tiny/model.safetensors.index.json: weight_map must be an object of tensor names to shard files');
  });
});

describe('planFolder', () => {
  it('recognises a Hugging Face GPT-2 folder and its tokenizer files, tokenizer.json first', () => {
    const plan = planFolder(hf, ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json'], 'f32');
    expect(plan.kind).toBe('huggingface');
    if (plan.kind !== 'huggingface') return;
    expect([plan.weights, plan.tokenizer]).toEqual(['model.safetensors', ['tokenizer.json']]);
    expect(plan.spec.kind).toBe('gpt');
    expect([plan.spec.config.nLayer, plan.spec.config.nHead, plan.spec.config.nEmbd, plan.spec.config.blockSize, plan.spec.config.vocabSize]).toEqual([2, 2, 64, 64, 297]);
    expect((planFolder(hf, ['merges.txt', 'config.json', 'vocab.json', 'model.safetensors'], 'f16') as { tokenizer: unknown }).tokenizer).toEqual(['vocab.json', 'merges.txt']);
    expect((planFolder(hf, ['config.json', 'vocab.json', 'merges.txt', 'tokenizer.json', 'model.safetensors'], 'x') as { tokenizer: unknown }).tokenizer).toEqual(['tokenizer.json']);
    expect((planFolder(hf, ['config.json', 'tx-tokenizer.json', 'model.safetensors'], 'x') as { tokenizer: unknown }).tokenizer).toEqual(['tx-tokenizer.json']);
  });

  it('names what is missing or unsupported, in one line', () => {
    expect(() => planFolder(hf, ['config.json', 'model.safetensors', 'vocab.json'], 'picked')).toThrow('picked: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt (found config.json, model.safetensors, vocab.json)');
    expect(() => planFolder(hf, ['config.json', 'tokenizer.json'], 'picked')).toThrow('picked: missing model.safetensors (or model.safetensors.index.json and its shards) (found config.json, tokenizer.json)');
    expect(() => planFolder(hf, ['config.json', 'tokenizer.json', 'pytorch_model.bin'], 'picked')).toThrow('picked: pytorch_model.bin is not read; save the model with safe_serialization=True to get model.safetensors');
    expect(() => planFolder({ model_type: 'falcon', architectures: ['FalconForCausalLM'] }, ['config.json'], 'picked')).toThrow('picked/config.json: unsupported architecture "FalconForCausalLM"');
    expect(() => planFolder({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, ['config.json'], 'picked')).toThrow('picked/config.json: ');
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
