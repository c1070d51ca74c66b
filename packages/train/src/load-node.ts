// loadModel(dir): a model folder on disk in one call. The folder may be a
// `tx train` checkpoint (after a crash, its newest complete copy: see
// folder.ts), a `tx export`, or a Hugging Face GPT-2 (`model_type: "gpt2"`),
// Llama, Mistral or Qwen2 folder: config.json, model.safetensors or the shards
// that model.safetensors.index.json lists (huggingface-shards.ts), and
// tokenizer.json or vocab.json + merges.txt (huggingface-folder.ts). See
// ./load.ts for what comes back.
import { join } from 'node:path';
import { TxError, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { readFolderJson, readHuggingFaceTokenizers } from './huggingface-folder.js';
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
  // Only regular files within their kind's limit (a FIFO would block, /dev/urandom never ends): huggingface-folder.ts.
  const config = await readFolderJson(folder, 'config.json');
  if (config === undefined) throw new TxError(`no model at ${dir}: config.json is missing`);
  const tx = typeof config === 'object' && config !== null && 'format' in config;
  // A Hugging Face folder may be sharded (model.safetensors.index.json); tx's own folders hold one model.safetensors.
  const { tensors } = tx ? await loadSafetensorsFile(join(folder, 'model.safetensors'), { requireFinite: true }) : await readHuggingFaceWeights(folder);
  try {
    if (tx) {
      return modelFromFiles({ config, weights: tensors, tokenizer: await readFolderJson(folder, 'tokenizer.json') }, folder);
    }
    return modelFromHuggingFace({ config, tensors, ...(await readHuggingFaceTokenizers(folder)) }, folder);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
