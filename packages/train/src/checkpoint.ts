// Checkpoints: a folder holding
//   model.safetensors      the model's state dict (nanoGPT names, PyTorch layout)
//   optimizer.safetensors  AdamW moments (+ step in its metadata), for resuming
//   config.json            { model, tokenizer, training: { step, rngState, ... } }
//   tokenizer.json         the tokenizer, in @tx/tokenizer's format
//
// A checkpoint is replaced as a whole: the new one is written to a sibling
// temporary folder, then swapped in with renames. A crash at any moment leaves
// either the old folder or the new one (at worst under "<dir>.old", which
// loadCheckpoint falls back to), never a mix.
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TxError, tf, type Module, type RngState } from '@tx/core';
import { loadSafetensorsFile, saveSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import type { AdamW } from './adamw.js';

export class CheckpointError extends TxError {}

export interface TrainingState {
  step: number;
  rngState: RngState;
  [key: string]: unknown;
}

export interface CheckpointConfig {
  model: Record<string, unknown>;
  tokenizer?: Record<string, unknown>;
  training?: TrainingState;
  [key: string]: unknown;
}

export interface SaveCheckpointOptions {
  model: Module;
  config: CheckpointConfig;
  optimizer?: AdamW;
  /** The tokenizer's JSON form (written to tokenizer.json). */
  tokenizer?: unknown;
}

export async function saveCheckpoint(dir: string, { model, config, optimizer, tokenizer }: SaveCheckpointOptions): Promise<void> {
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
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

  const old = `${dir}.old`;
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(temp, dir);
  await rm(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  dir: string;
  config: CheckpointConfig;
  /** The model's tensors; the caller owns them (pass to model.loadStateDict, then dispose). */
  modelState: Record<string, tf.Tensor>;
  optimizerState: { tensors: Record<string, tf.Tensor>; step: number } | null;
  tokenizer: unknown;
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  if (!(await exists(dir))) {
    // A crash between the two renames of saveCheckpoint leaves the last good checkpoint here.
    if (await exists(`${dir}.old`)) dir = `${dir}.old`;
    else throw new CheckpointError(`no checkpoint at ${dir}: the folder does not exist`);
  }
  const configPath = join(dir, 'config.json');
  let config: CheckpointConfig;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${configPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
  }
  if (typeof config !== 'object' || config === null || typeof config.model !== 'object') {
    throw new CheckpointError(`${configPath}: expected an object with a "model" field`);
  }
  const { tensors: modelState } = await loadSafetensorsFile(join(dir, 'model.safetensors'));
  let optimizerState: LoadedCheckpoint['optimizerState'] = null;
  if (await exists(join(dir, 'optimizer.safetensors'))) {
    const { tensors, metadata } = await loadSafetensorsFile(join(dir, 'optimizer.safetensors'));
    optimizerState = { tensors, step: Number(metadata.step ?? NaN) };
  }
  let tokenizer: unknown = null;
  if (await exists(join(dir, 'tokenizer.json'))) {
    try {
      tokenizer = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    } catch (err) {
      throw new CheckpointError(`${join(dir, 'tokenizer.json')}: not valid JSON (${(err as Error).message})`);
    }
  }
  return { dir, config, modelState, optimizerState, tokenizer };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
