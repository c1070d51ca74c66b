// Which model folder the reader gave us, from its config.json and the names
// of its files: a `tx export` folder (the manifest names its files), or a
// Hugging Face GPT-2 or Llama-family folder (Llama, Mistral, Qwen2) as
// save_pretrained writes it (config.json, model.safetensors or the shards of
// model.safetensors.index.json, and tokenizer.json or vocab.json +
// merges.txt). Anything missing or unsupported is one line that names it,
// before a byte of the weights is read.
import { gptConfigFromHuggingFace, isLlamaFamily, llamaConfigFromHuggingFace, type GPTConfig, type LlamaConfig } from '@tx/blocks';
import { TxError } from '@tx/core';
import { parseManifest } from '@tx/train';

/** The tokenizer files of a Hugging Face folder, in the order they are looked for. */
export const TOKENIZER_FILES = [['tokenizer.json'], ['vocab.json', 'merges.txt'], ['tx-tokenizer.json']] as const;
export type TokenizerFiles = (typeof TOKENIZER_FILES)[number];

/**
 * Which files of a Hugging Face folder are there, asking `has` only what
 * decides the plan, in planFolder's order: the weights (and, when they are
 * missing, what is there instead), then the tokenizer files until a set is
 * complete. A folder with model.safetensors and tokenizer.json (any GPT-2 on
 * the Hugging Face Hub) takes two questions, and no request that fails.
 */
export async function findHuggingFaceFiles(has: (name: string) => Promise<boolean>): Promise<string[]> {
  const found: string[] = [];
  const ask = async (name: string) => {
    const there = await has(name);
    if (there) found.push(name);
    return there;
  };
  if (!(await ask('model.safetensors')) && !(await ask('model.safetensors.index.json'))) await ask('pytorch_model.bin');
  for (const set of TOKENIZER_FILES) {
    let complete = true;
    for (const name of set) complete = complete && (await ask(name));
    if (complete) break;
  }
  return found;
}

/** The decoders a Hugging Face folder may hold, as @tx/blocks configures them. */
export type DecoderSpec = { kind: 'gpt'; config: GPTConfig } | { kind: 'llama'; config: LlamaConfig };

/** The index of a sharded folder, or the one weights file. */
export const INDEX = 'model.safetensors.index.json';

export type FolderPlan =
  | { kind: 'tx'; weights: string; tokenizer: string }
  | { kind: 'huggingface'; spec: DecoderSpec; weights: 'model.safetensors' | typeof INDEX; tokenizer: TokenizerFiles };

/** A Hugging Face config.json (model_type or architectures), as opposed to our manifest (format). */
export function isHuggingFaceConfig(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false;
  const c = config as Record<string, unknown>;
  return c.format === undefined && (c.model_type !== undefined || c.architectures !== undefined);
}

/**
 * What to read from a folder whose config.json says `config` and which holds
 * `names` (null when unknown: a URL of a `tx export` folder, whose manifest
 * names the files). `where` names the folder in errors.
 */
export function planFolder(config: unknown, names: readonly string[] | null, where: string): FolderPlan {
  const has = (n: string) => names === null || names.includes(n);
  const found = names?.length ? ` (found ${names.join(', ')})` : '';
  if (isHuggingFaceConfig(config)) {
    // An unsupported architecture fails here, as does a Llama config the code cannot run (a rope_scaling, heads that do not divide).
    const spec: DecoderSpec = isLlamaFamily(config)
      ? { kind: 'llama', config: llamaConfigFromHuggingFace(config, `${where}/config.json`) }
      : { kind: 'gpt', config: gptConfigFromHuggingFace(config, `${where}/config.json`) };
    let weights: 'model.safetensors' | typeof INDEX = 'model.safetensors';
    if (!has('model.safetensors')) {
      if (has(INDEX)) weights = INDEX;
      else if (has('pytorch_model.bin')) throw new TxError(`${where}: pytorch_model.bin is not read; save the model with safe_serialization=True to get model.safetensors`);
      else throw new TxError(`${where}: missing model.safetensors (or ${INDEX} and its shards)${found}`);
    }
    const tokenizer = TOKENIZER_FILES.find((set) => set.every(has));
    if (!tokenizer) throw new TxError(`${where}: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt${found}`);
    return { kind: 'huggingface', spec, weights, tokenizer };
  }
  const c = config as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || c.format === undefined) {
    throw new TxError(`${where}/config.json: not a model config: expected a \`tx export\` manifest ("format": "tx-export") or a Hugging Face config ("model_type": "gpt2")`);
  }
  const manifest = parseManifest(config, `${where}/config.json`);
  const { weights, tokenizer } = manifest.files;
  const missing = [tokenizer, weights].filter((n) => !has(n));
  if (missing.length) throw new TxError(`${where}: missing ${missing.join(' and ')}: pick config.json, ${tokenizer} and ${weights} together`);
  return { kind: 'tx', weights, tokenizer };
}

/**
 * The shard files of a model.safetensors.index.json, checked before a byte
 * of them is read: its weight_map names each tensor's shard, a plain file
 * name beside the index (never "../x" or a path), and every shard is there
 * (`names`, when the folder's files are known: picked). Returns the shards,
 * sorted, and the map, for checking each shard's tensors as it is read.
 */
export function shardsOf(index: unknown, names: readonly string[] | null, where: string): { shards: string[]; weightMap: Record<string, string> } {
  const file = `${where}/${INDEX}`;
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map) || Object.keys(map).length === 0) throw new TxError(`${file}: weight_map must be an object of tensor names to shard files`);
  const weightMap = map as Record<string, unknown>;
  const bad = Object.entries(weightMap).find(([, f]) => typeof f !== 'string' || f === '');
  if (bad) throw new TxError(`${file}: weight_map["${bad[0]}"] must be a shard's file name, got ${JSON.stringify(bad[1])}`);
  const shards = [...new Set(Object.values(weightMap) as string[])].sort();
  for (const shard of shards) {
    if (/[/\\]/.test(shard) || shard === '.' || shard === '..') throw new TxError(`${file}: shard "${shard}" is outside the folder; an index names files beside it`);
    if (names !== null && !names.includes(shard)) throw new TxError(`${file}: shard "${shard}" is missing: pick it with the model's other files`);
  }
  return { shards, weightMap: weightMap as Record<string, string> };
}
