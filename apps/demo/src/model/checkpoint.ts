// Loading a checkpoint in the browser: the folder `tx train` saves and
// `tx export` publishes (config.json, model.safetensors, tokenizer.json),
// from a URL or from files the user picks.
import { loadSafetensors, tf } from '@tx/core';
import { CharTokenizer } from '../lib/char-tokenizer.js';
import { GPT, readGPTConfig } from './gpt.js';

export interface LoadedModel {
  name: string;
  model: GPT;
  tokenizer: CharTokenizer;
  config: Record<string, unknown>;
}

export interface CheckpointFiles {
  config: unknown;
  tokenizer: unknown;
  weights: Uint8Array;
}

export function fromFiles(name: string, files: CheckpointFiles): LoadedModel {
  const config = files.config as Record<string, unknown>;
  const modelConfig = (config.model ?? config) as Record<string, unknown>;
  if (modelConfig.type !== undefined && modelConfig.type !== 'gpt') {
    throw new Error(`${name}: model type "${String(modelConfig.type)}" is not supported by the demo yet (GPT only)`);
  }
  const tokenizer = CharTokenizer.fromJSON(files.tokenizer);
  const model = new GPT(readGPTConfig(modelConfig));
  const { tensors } = loadSafetensors(files.weights, `${name}/model.safetensors`);
  try {
    // nanoGPT ties lm_head to wte; a state dict without lm_head uses wte.
    if (!tensors['lm_head.weight'] && tensors['transformer.wte.weight']) tensors['lm_head.weight'] = tensors['transformer.wte.weight'].clone();
    for (const key of Object.keys(tensors)) if (key.endsWith('.attn.bias') || key.endsWith('.attn.masked_bias')) { tensors[key].dispose(); delete tensors[key]; }
    model.loadStateDict(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  if (tokenizer.vocabSize !== model.config.vocabSize) throw new Error(`${name}: tokenizer has ${tokenizer.vocabSize} symbols, model expects ${model.config.vocabSize}`);
  return { name, model, tokenizer, config };
}

export async function fromUrl(name: string, base: string): Promise<LoadedModel> {
  const url = (file: string) => new URL(file, new URL(base.endsWith('/') ? base : `${base}/`, location.href)).href;
  const get = async (file: string) => {
    const res = await fetch(url(file));
    if (!res.ok) throw new Error(`${url(file)}: HTTP ${res.status}`);
    return res;
  };
  const [config, tokenizer, weights] = await Promise.all([
    get('config.json').then((r) => r.json()),
    get('tokenizer.json').then((r) => r.json()),
    get('model.safetensors').then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  return fromFiles(name, { config, tokenizer, weights });
}

/** Files from a file picker (a checkpoint folder's three files, picked together). */
export async function fromPicked(files: FileList | File[]): Promise<LoadedModel> {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const need = (n: string) => {
    const f = byName.get(n);
    if (!f) throw new Error(`pick the checkpoint's config.json, tokenizer.json and model.safetensors together (missing ${n})`);
    return f;
  };
  return fromFiles('picked checkpoint', {
    config: JSON.parse(await need('config.json').text()),
    tokenizer: JSON.parse(await need('tokenizer.json').text()),
    weights: new Uint8Array(await need('model.safetensors').arrayBuffer()),
  });
}
