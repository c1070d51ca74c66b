// What a `tx` checkpoint holds and how to rebuild its model:
//   config.json: { format: "tx-checkpoint", version: 1, task, settings,
//                  model: { kind: "gpt", config } | { kind: "encoder-decoder", config, specials },
//                  training: { step, rngState, modelRngState } }
// plus model.safetensors, optimizer.safetensors and tokenizer.json (see @tx/train/node).
import { EncoderDecoderTransformer, GPT, type EncoderDecoderConfig, type GPTConfig } from '@tx/blocks';
import { Rng, TxError, tf, type RngState } from '@tx/core';
import { loadTokenizer, type Tokenizer } from '@tx/tokenizer';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, loadCheckpoint, type LoadedCheckpoint } from '@tx/train/node';
import type { ResolvedSettings } from './settings.js';

export interface Seq2SeqSpecials {
  pad: number;
  bos: number;
  eos: number;
}

export type ModelSpec = { kind: 'gpt'; config: GPTConfig } | { kind: 'encoder-decoder'; config: EncoderDecoderConfig; specials: Seq2SeqSpecials };

export interface TxCheckpointConfig {
  format: 'tx-checkpoint';
  version: 1;
  task: string;
  settings: ResolvedSettings;
  model: ModelSpec;
  training: { step: number; rngState: RngState; modelRngState: RngState; valLoss?: number };
  [key: string]: unknown;
}

export type AnyModel = GPT | EncoderDecoderTransformer;

export function buildModel(spec: ModelSpec, seed: number): AnyModel {
  return spec.kind === 'gpt' ? new GPT(spec.config, { rng: new Rng(seed) }) : new EncoderDecoderTransformer(spec.config, { rng: new Rng(seed) });
}

export interface OpenedCheckpoint {
  config: TxCheckpointConfig;
  model: AnyModel;
  tokenizer: Tokenizer;
  /** The raw checkpoint, for the optimizer state when resuming (its tensors are the caller's). */
  raw: LoadedCheckpoint;
}

/** Load a checkpoint folder: config, tokenizer, model weights. Errors name the folder and file. */
export async function openCheckpoint(dir: string): Promise<OpenedCheckpoint> {
  const raw = await loadCheckpoint(dir);
  const config = raw.config as unknown as TxCheckpointConfig;
  const where = `${raw.dir}/config.json`;
  const fail = (message: string): never => {
    tf.dispose([...Object.values(raw.modelState), ...Object.values(raw.optimizerState?.tensors ?? {})]);
    throw new TxError(message);
  };
  if (config.format !== 'tx-checkpoint') fail(`${where}: not a tx checkpoint (format is ${JSON.stringify(config.format)})`);
  const kind: unknown = config.model?.kind;
  if (kind !== 'gpt' && kind !== 'encoder-decoder') fail(`${where}: model.kind must be "gpt" or "encoder-decoder", got ${JSON.stringify(kind)}`);
  if (raw.tokenizer === null) fail(`${raw.dir}: tokenizer.json is missing`);
  let tokenizer: Tokenizer | undefined;
  try {
    tokenizer = loadTokenizer(raw.tokenizer);
  } catch (err) {
    fail(`${raw.dir}/tokenizer.json: ${(err as Error).message}`);
  }
  const model = buildModel(config.model, config.settings?.seed ?? 1337);
  try {
    model.loadStateDict(raw.modelState);
  } catch (err) {
    model.dispose();
    tf.dispose(Object.values(raw.optimizerState?.tensors ?? {}));
    throw new TxError(`${raw.dir}/model.safetensors: ${(err as Error).message}`);
  } finally {
    tf.dispose(Object.values(raw.modelState));
  }
  return { config, model, tokenizer: tokenizer!, raw };
}

/** Just config.json of a checkpoint (no tensors), e.g. to pick the backend before loading weights. */
export async function readCheckpointConfig(dir: string): Promise<TxCheckpointConfig> {
  for (const folder of [dir, `${dir}.old`]) {
    const path = join(folder, 'config.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    try {
      return JSON.parse(text) as TxCheckpointConfig;
    } catch (err) {
      throw new CheckpointError(`${path}: not valid JSON (${(err as Error).message})`);
    }
  }
  throw new CheckpointError(`no checkpoint at ${dir}: ${join(dir, 'config.json')} does not exist`);
}
