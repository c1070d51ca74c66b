// loadModel(dir): a model folder on disk in one call. The folder may be a
// `tx train` checkpoint (after a crash, its newest complete copy: see
// folder.ts), a `tx export`, a Hugging Face GPT-2 folder (config.json with
// `model_type: "gpt2"`, model.safetensors, and tokenizer.json or vocab.json +
// merges.txt), or a Llama, Mistral or Qwen2 folder (its weights possibly in
// shards that model.safetensors.index.json lists). See ./load.ts for what comes back.
import { join } from 'node:path';
import { TxError, parseJson, tf } from '@tx/core';
import { CONFIG_LIMIT, TOKENIZER_LIMIT, loadSafetensorsFile, readTextFileWithin } from '@tx/core/node';
import type { HuggingFaceFiles } from './huggingface.js';
import { modelFromFiles, modelFromHuggingFace, type LoadedModel } from './load.js';
import { findCompleteCopy } from './folder.js';
import { readHuggingFaceWeights } from './huggingface-shards.js';

/**
 * Load a model folder: a `tx train` checkpoint, a `tx export` or a Hugging Face
 * GPT-2 or Llama-family folder. The result is narrowed by `kind` (`'gpt'`, `'llama'`, `'encoder-decoder'`,
 * `'encoder'`) and carries the tokenizer and the task's generation defaults.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const copy = await findCompleteCopy(dir);
  if (!copy) throw new TxError(`no model at ${dir}: the folder does not exist`);
  const folder = copy.path;
  const read = async (name: string): Promise<string | null> => {
    try {
      // Only a regular file within its kind's limit (a FIFO would block, /dev/urandom never ends).
      return await readTextFileWithin(join(folder, name), name === 'config.json' ? CONFIG_LIMIT : TOKENIZER_LIMIT);
    } catch (err) {
      if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
      throw err; // a TxError naming the file: `${path}: a FIFO (named pipe), not a regular file; ...`
    }
  };
  const json = async (name: string): Promise<unknown> => {
    const text = await read(name);
    return text === null ? undefined : parseJson(text, join(folder, name));
  };
  const config = await json('config.json');
  if (config === undefined) throw new TxError(`no model at ${dir}: config.json is missing`);
  const tx = typeof config === 'object' && config !== null && 'format' in config;
  // A Hugging Face folder may be sharded (model.safetensors.index.json); tx's own folders hold one model.safetensors.
  const { tensors } = tx ? await loadSafetensorsFile(join(folder, 'model.safetensors'), { requireFinite: true }) : await readHuggingFaceWeights(folder);
  try {
    if (tx) {
      return modelFromFiles({ config, weights: tensors, tokenizer: await json('tokenizer.json') }, folder);
    }
    const files: HuggingFaceFiles = { config, tensors, tokenizerJson: await json('tokenizer.json'), txTokenizer: await json('tx-tokenizer.json') };
    const [vocab, merges] = [await read('vocab.json'), await read('merges.txt')];
    if (vocab !== null && merges !== null) Object.assign(files, { vocabJson: vocab, mergesTxt: merges });
    return modelFromHuggingFace(files, folder);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
