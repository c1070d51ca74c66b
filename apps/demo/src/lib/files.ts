// Which model folder the reader gave us, from its config.json and the names
// of its files: a `tx export` folder (the manifest names its files), or a
// Hugging Face GPT-2 folder as save_pretrained writes it (config.json,
// model.safetensors, and tokenizer.json or vocab.json + merges.txt). Anything
// missing or unsupported is one line that names it, before a byte of the
// weights is read.
import { gptConfigFromHuggingFace, type GPTConfig } from '@tx/blocks';
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

export type FolderPlan =
  | { kind: 'tx'; weights: string; tokenizer: string }
  | { kind: 'huggingface'; config: GPTConfig; weights: 'model.safetensors'; tokenizer: TokenizerFiles };

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
    const gpt = gptConfigFromHuggingFace(config, `${where}/config.json`); // an unsupported architecture fails here
    if (!has('model.safetensors')) {
      if (has('model.safetensors.index.json')) throw new TxError(`${where}: the weights are sharded (model.safetensors.index.json); the site reads one model.safetensors`);
      if (has('pytorch_model.bin')) throw new TxError(`${where}: pytorch_model.bin is not read; save the model with safe_serialization=True to get model.safetensors`);
      throw new TxError(`${where}: missing model.safetensors${found}`);
    }
    const tokenizer = TOKENIZER_FILES.find((set) => set.every(has));
    if (!tokenizer) throw new TxError(`${where}: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt${found}`);
    return { kind: 'huggingface', config: gpt, weights: 'model.safetensors', tokenizer };
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
