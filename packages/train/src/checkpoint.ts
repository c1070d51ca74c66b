// Checkpoints: a folder holding
//   model.safetensors      the model's state dict (nanoGPT names, PyTorch layout)
//   optimizer.safetensors  AdamW moments (+ step in its metadata), for resuming
//   config.json            { model, tokenizer, training: { step, rngState, ... } }
//   tokenizer.json         the tokenizer, in @tx/tokenizer's format
//   manifest.json          written last: every file and its size (see folder.ts)
//
// A checkpoint is replaced as a whole (replaceFolder): the new one is written
// in full beside the old, then swapped in with renames. A crash at any moment,
// twice in a row, leaves a complete copy that loadCheckpoint finds, never a mix.
import { join } from 'node:path';
import { parseJson, tf, type Module, type RngState } from '@tx/core';
import { CONFIG_LIMIT, TOKENIZER_LIMIT, loadSafetensorsFile, readTextFileWithin, saveSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import type { AdamW } from './adamw.js';
import { CheckpointError, exists, findCompleteCopy, replaceFolder, type ReplaceFolderOptions } from './folder.js';

export { CheckpointError };

/** Where a run stands, to resume it exactly: its step and its Rng's state, plus the caller's own fields. */
export interface TrainingState {
  step: number;
  rngState: RngState;
  [key: string]: unknown;
}

/** A checkpoint's config.json: the model, the tokenizer and the training state, plus the caller's own fields. */
export interface CheckpointConfig {
  model: Record<string, unknown>;
  tokenizer?: Record<string, unknown>;
  training?: TrainingState;
  [key: string]: unknown;
}

/** What saveCheckpoint writes: the model, its config, the optimizer's state and the tokenizer. */
export interface SaveCheckpointOptions {
  model: Module;
  config: CheckpointConfig;
  optimizer?: AdamW;
  /** The tokenizer's JSON form (written to tokenizer.json). */
  tokenizer?: unknown;
}

/** Write a checkpoint folder so that any crash leaves a complete copy: weights, optimizer state, config.json and tokenizer.json, then the manifest. */
export async function saveCheckpoint(dir: string, { model, config, optimizer, tokenizer }: SaveCheckpointOptions, options?: ReplaceFolderOptions): Promise<void> {
  await replaceFolder(
    dir,
    async (temp) => {
      const modelState = model.stateDict();
      try {
        await saveSafetensorsFile(join(temp, 'model.safetensors'), modelState, { format: 'pt' });
      } finally {
        tf.dispose(Object.values(modelState));
      }
      if (optimizer) {
        const { tensors, step } = optimizer.stateDict();
        try {
          await saveSafetensorsFile(join(temp, 'optimizer.safetensors'), tensors, { step: String(step) });
        } finally {
          tf.dispose(Object.values(tensors));
        }
      }
      await writeFileAtomic(join(temp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      if (tokenizer !== undefined) await writeFileAtomic(join(temp, 'tokenizer.json'), JSON.stringify(tokenizer));
    },
    options,
  );
}

/** What loadCheckpoint returns: the folder it read, its config, and the model's and optimizer's tensors. */
export interface LoadedCheckpoint {
  dir: string;
  config: CheckpointConfig;
  /** The model's tensors; the caller owns them (pass to model.loadStateDict, then dispose). */
  modelState: Record<string, tf.Tensor>;
  optimizerState: { tensors: Record<string, tf.Tensor>; step: number } | null;
  tokenizer: unknown;
}

/** Read a checkpoint folder (after a crash, its newest complete copy), checking every file. */
/** `optimizer: false` skips optimizer.safetensors (sampling and evaluating need only the weights). */
export async function loadCheckpoint(requested: string, { optimizer = true }: { optimizer?: boolean } = {}): Promise<LoadedCheckpoint> {
  // After a crash mid-swap the newest complete copy may be dir.old or a temp folder.
  const copy = await findCompleteCopy(requested);
  if (!copy) throw new CheckpointError(`no checkpoint at ${requested}: the folder does not exist`);
  const dir = copy.path;
  const configPath = join(dir, 'config.json');
  // Only regular files within a size limit are read (a FIFO would block, /dev/urandom never ends): @tx/core's readTextFileWithin.
  let text: string;
  try {
    text = await readTextFileWithin(configPath, CONFIG_LIMIT);
  } catch (err) {
    throw new CheckpointError(((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? `${configPath}: missing` : (err as Error).message, { cause: err });
  }
  const config = parseJson(text, configPath, CheckpointError) as CheckpointConfig;
  if (typeof config !== 'object' || config === null || typeof config.model !== 'object') {
    throw new CheckpointError(`${configPath}: expected an object with a "model" field`);
  }
  const { tensors: modelState } = await loadSafetensorsFile(join(dir, 'model.safetensors'), { requireFinite: true });
  let optimizerState: LoadedCheckpoint['optimizerState'] = null;
  if (optimizer && (await exists(join(dir, 'optimizer.safetensors')))) {
    const { tensors, metadata } = await loadSafetensorsFile(join(dir, 'optimizer.safetensors'), { requireFinite: true });
    optimizerState = { tensors, step: Number(metadata.step ?? NaN) };
  }
  let tokenizer: unknown = null;
  if (await exists(join(dir, 'tokenizer.json'))) {
    const text = await readTextFileWithin(join(dir, 'tokenizer.json'), TOKENIZER_LIMIT).catch((err: Error) => {
      throw new CheckpointError(err.message, { cause: err });
    });
    tokenizer = parseJson(text, join(dir, 'tokenizer.json'), CheckpointError);
  }
  return { dir, config, modelState, optimizerState, tokenizer };
}
