// The Hugging Face Llama-family fixtures (tooling/fixtures/hf_llama.py) as the
// Llama tests load them: config.json, then each shard the index names.
import { readFileSync } from 'node:fs';
import { Rng, tf, type StateDict } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { llamaConfigFromHuggingFace } from '../src/models/huggingface-llama.js';
import { Llama } from '../src/models/llama.js';

/** The folder of the llama, mistral and qwen2 fixtures and their reference.json. */
export const fixtures = new URL('./fixtures/hf-llama/', import.meta.url);

/** The fixture folder's model in eval mode; `context` shortens max_position_embeddings. */
export async function loadFixture(arch: string, context?: number): Promise<Llama> {
  const raw = JSON.parse(readFileSync(new URL(`${arch}/config.json`, fixtures), 'utf8')) as Record<string, unknown>;
  const config = llamaConfigFromHuggingFace(context ? { ...raw, max_position_embeddings: context } : raw);
  const index = JSON.parse(readFileSync(new URL(`${arch}/model.safetensors.index.json`, fixtures), 'utf8')) as { weight_map: Record<string, string> };
  const tensors: StateDict = {};
  for (const file of new Set(Object.values(index.weight_map))) {
    Object.assign(tensors, (await loadSafetensorsFile(new URL(`${arch}/${file}`, fixtures).pathname)).tensors);
  }
  const model = new Llama(config, { rng: new Rng(1) }).eval();
  model.loadStateDict(tensors);
  tf.dispose(Object.values(tensors));
  return model;
}
