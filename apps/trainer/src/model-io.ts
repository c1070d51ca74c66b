// What a `tx` checkpoint holds and how to rebuild its model:
//   config.json: { format: "tx-checkpoint", version: 1, task, settings,
//                  model: { kind: "gpt", config } | { kind: "encoder-decoder", config, specials },
//                  training: { step, rngState, modelRngState } }
// plus model.safetensors, optimizer.safetensors and tokenizer.json (see @tx/train/node).
// Everything read from the folder is checked before it is used: the config's
// shape and ranges, the model's memory against the budget, the tokenizer
// against the embedding, and the weights for NaN and infinity.
import { EncoderDecoderTransformer, GPT, checkEncoderDecoderConfig, checkGPTConfig, type EncoderDecoderConfig, type GPTConfig } from '@tx/blocks';
import { Rng, TxError, tf, type RngState } from '@tx/core';
import { loadTokenizer, type Tokenizer } from '@tx/tokenizer';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, findCompleteCopy, loadCheckpoint, type LoadedCheckpoint } from '@tx/train/node';
import { checkMemory, type Budget } from './budget.js';
import { TRAIN_FIELDS, checkField } from './schema.js';
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

/** The embedding's rows: every id the tokenizer produces must be below this. */
export function modelVocabSize(spec: ModelSpec): number {
  return spec.kind === 'gpt' ? spec.config.vocabSize : Math.min(spec.config.srcVocabSize, spec.config.tgtVocabSize);
}

export interface OpenedCheckpoint {
  config: TxCheckpointConfig;
  model: AnyModel;
  tokenizer: Tokenizer;
  /** The raw checkpoint, for the optimizer state when resuming (its tensors are the caller's). */
  raw: LoadedCheckpoint;
}

/** Load a checkpoint folder: config, tokenizer, model weights. Errors name the folder and file. */
export async function openCheckpoint(dir: string, budget: Budget): Promise<OpenedCheckpoint> {
  // Check the config (and the memory it asks for) before reading a single tensor.
  const checked = await readCheckpointConfig(dir);
  checkMemory(`${checked.dir}/config.json: the model`, checked.config.model, { batchSize: 1, training: false }, budget);
  const raw = await loadCheckpoint(dir);
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
  const model = buildModel(config.model, config.settings.seed);
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
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === 'ENOENT' ? `no checkpoint at ${dir}: ${path} does not exist` : `${path}: cannot read it (${code})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${path}: not valid JSON (${(err as Error).message})`);
  }
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

  const model = c.model;
  if (!isObject(model)) bad('model', 'must be an object');
  const m = model as Record<string, unknown>;
  if (m.kind !== 'gpt' && m.kind !== 'encoder-decoder') bad('model.kind', `must be "gpt" or "encoder-decoder", got ${JSON.stringify(m.kind)}`);
  if (!isObject(m.config)) bad('model.config', 'must be an object');
  try {
    if (m.kind === 'gpt') checkGPTConfig(m.config as unknown as GPTConfig);
    else checkEncoderDecoderConfig(m.config as unknown as EncoderDecoderConfig);
  } catch (err) {
    bad('model.config', `is a ${(err as Error).message}`);
  }
  if (m.kind === 'encoder-decoder') {
    const rows = modelVocabSize(m as ModelSpec);
    if (!isObject(m.specials)) bad('model.specials', 'must be an object { pad, bos, eos }');
    for (const name of ['pad', 'bos', 'eos']) {
      const id = (m.specials as Record<string, unknown>)[name];
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= rows) bad(`model.specials.${name}`, `must be an id in [0, ${rows}), got ${JSON.stringify(id)}`);
    }
  }

  if (!isObject(c.settings)) bad('settings', 'must be an object');
  for (const [key, v] of Object.entries(c.settings as Record<string, unknown>)) {
    if (!(key in TRAIN_FIELDS) || (key === 'data' && v === null)) continue; // settings of other versions are kept, not used
    checkField(key as keyof typeof TRAIN_FIELDS, v, `${where}: settings.${key}`);
  }
  if (!isObject(c.training)) bad('training', 'must be an object');
  const t = c.training as Record<string, unknown>;
  if (!Number.isInteger(t.step) || (t.step as number) < 0) bad('training.step', `must be an integer >= 0, got ${JSON.stringify(t.step)}`);
  for (const name of ['rngState', 'modelRngState']) {
    try {
      Rng.fromState(t[name] as RngState);
    } catch (err) {
      bad(`training.${name}`, (err as Error).message.replace(/^Rng state /, ''));
    }
  }
}
