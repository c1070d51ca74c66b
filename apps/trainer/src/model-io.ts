// Opening a `tx` checkpoint folder (@tx/train's format: config.json with the
// trainer's settings, model.safetensors, optimizer.safetensors, tokenizer.json).
// Everything read from the folder is checked before it is used: the config's
// shape and ranges, the model's memory against the budget, the tokenizer
// against the embedding, and the weights for NaN and infinity.
import { buildModel, modelVocabSize, parseModelSpec, type AnyModel } from '@tx/blocks';
import { Rng, TxError, parseJson, tf, type RngState } from '@tx/core';
import { loadTokenizer, type Tokenizer } from '@tx/tokenizer';
import type { TxCheckpointConfig as CheckpointConfigBase } from '@tx/train';
import { readTextFileWithin } from '@tx/core/node';
import { CONFIG_LIMIT } from './read.js';
import { join } from 'node:path';
import { CheckpointError, findCompleteCopy, loadCheckpoint, type LoadedCheckpoint } from '@tx/train/node';
import { checkMemory, inferenceUse, type Budget } from './budget.js';
import { TRAIN_FIELDS, checkField } from './schema.js';
import type { ResolvedSettings } from './settings.js';

/** @tx/train's checkpoint config, with the trainer's settings. */
export type TxCheckpointConfig = CheckpointConfigBase<ResolvedSettings>;

export interface OpenedCheckpoint {
  config: TxCheckpointConfig;
  model: AnyModel;
  tokenizer: Tokenizer;
  /** The raw checkpoint, for the optimizer state when resuming (its tensors are the caller's). */
  raw: LoadedCheckpoint;
}

/**
 * Load a checkpoint folder: config, tokenizer, model weights, and with
 * `optimizer: true` (resuming) AdamW's moments. Errors name the folder and file.
 */
export async function openCheckpoint(dir: string, budget: Budget, { optimizer = false }: { optimizer?: boolean } = {}): Promise<OpenedCheckpoint> {
  // Check the config (and the memory it asks for) before reading a single tensor.
  const checked = await readCheckpointConfig(dir);
  checkMemory(`${checked.dir}/config.json: the model`, checked.config.model, inferenceUse(checked.config.model), budget);
  const raw = await loadCheckpoint(dir, { optimizer });
  const config = raw.config as unknown as TxCheckpointConfig;
  const fail = (message: string): never => {
    tf.dispose([...Object.values(raw.modelState), ...Object.values(raw.optimizerState?.tensors ?? {})]);
    throw new TxError(message);
  };
  try {
    checkCheckpointConfig(config, `${raw.dir}/config.json`);
  } catch (err) {
    fail((err as Error).message);
  }
  if (raw.tokenizer === null) fail(`${raw.dir}: tokenizer.json is missing`);
  let tokenizer: Tokenizer | undefined;
  try {
    tokenizer = loadTokenizer(raw.tokenizer);
  } catch (err) {
    fail(`${raw.dir}/tokenizer.json: ${(err as Error).message}`);
  }
  const rows = modelVocabSize(config.model);
  if (tokenizer!.vocabSize > rows) fail(`${raw.dir}/tokenizer.json: the tokenizer has ${tokenizer!.vocabSize} tokens but the model's embedding has ${rows} rows`);
  const model = buildModel(config.model, { rng: new Rng(config.settings.seed) });
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

/** Just config.json of a checkpoint (no tensors), checked, e.g. to pick the backend before loading weights. */
export async function readCheckpointConfig(dir: string): Promise<{ dir: string; config: TxCheckpointConfig }> {
  const copy = await findCompleteCopy(dir);
  if (!copy) throw new CheckpointError(`no checkpoint at ${dir}: the folder does not exist`);
  const path = join(copy.path, 'config.json');
  let text: string;
  try {
    text = await readTextFileWithin(path, CONFIG_LIMIT); // a regular file, within 16 MB
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    throw new CheckpointError(code === 'ENOENT' ? `no checkpoint at ${dir}: ${path} does not exist` : (err as Error).message, { cause: err });
  }
  const config = parseJson(text, path, CheckpointError);
  checkCheckpointConfig(config, path);
  return { dir: copy.path, config: config as TxCheckpointConfig };
}

/** Every field tx reads from config.json, with the file and field in the message. */
export function checkCheckpointConfig(value: unknown, where: string): asserts value is TxCheckpointConfig {
  const bad = (field: string, message: string): never => {
    throw new CheckpointError(`${where}: ${field} ${message}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) bad('the file', 'must hold a JSON object');
  const c = value as Record<string, unknown>;
  if (c.format !== 'tx-checkpoint') throw new CheckpointError(`${where}: not a tx checkpoint (format is ${JSON.stringify(c.format)})`);
  if (!TRAIN_FIELDS.task.values.includes(c.task as never)) bad('task', `must be one of ${TRAIN_FIELDS.task.values.join(', ')}, got ${JSON.stringify(c.task)}`);

  try {
    c.model = parseModelSpec(c.model, where); // also updates names from older versions
  } catch (err) {
    throw new CheckpointError((err as Error).message);
  }

  if (!isObject(c.settings)) bad('settings', 'must be an object');
  for (const [key, v] of Object.entries(c.settings as Record<string, unknown>)) {
    if (!(key in TRAIN_FIELDS) || (key === 'data' && v === null)) continue; // settings of other versions are kept, not used
    checkField(key as keyof typeof TRAIN_FIELDS, v, `${where}: settings.${key}`);
  }
  if (!isObject(c.training)) bad('training', 'must be an object');
  const t = c.training as Record<string, unknown>;
  if (!Number.isSafeInteger(t.step) || (t.step as number) < 0) bad('training.step', `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(t.step)}`);
  for (const name of ['rngState', 'modelRngState']) {
    try {
      Rng.fromState(t[name] as RngState);
    } catch (err) {
      bad(`training.${name}`, (err as Error).message.replace(/^Rng state /, ''));
    }
  }
}
