// tx import nanogpt: a nanoGPT state_dict (saved as safetensors) into a tx checkpoint.
// tx export: a checkpoint as the static files the demo site loads.
import { copyFile, mkdir } from 'node:fs/promises';
import { readTextFile } from '../read.js';
import { join } from 'node:path';
import { GPT, checkGPTConfig, gptConfigFromNanoGPT, type NanoGPTModelArgs } from '@tx/blocks';
import { Rng, TxError, initBackend, tf } from '@tx/core';
import { loadSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import { CharTokenizer } from '@tx/tokenizer';
import { saveCheckpoint } from '@tx/train/node';
import { readCheckpointConfig, type TxCheckpointConfig } from '../model-io.js';
import { parse, required, UsageError, type Io } from '../run.js';
import { resolveSettings } from '../settings.js';

export async function importCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, 'model-args': { type: 'string' }, 'vocab-from': { type: 'string' }, vocab: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' },
  }, 1);
  if (positionals[0] !== 'nanogpt') throw new UsageError(`tx import knows one format, "nanogpt"; got ${positionals[0] === undefined ? 'none' : `"${positionals[0]}"`}`);
  const weights = required(values, 'weights');
  const out = required(values, 'out');
  let args: NanoGPTModelArgs;
  try {
    args = JSON.parse(required(values, 'model-args'));
  } catch (err) {
    throw new UsageError(`--model-args is not valid JSON (${(err as Error).message})`);
  }
  let config;
  try {
    config = gptConfigFromNanoGPT(args);
    checkGPTConfig(config);
  } catch (err) {
    throw new UsageError(`--model-args: ${(err as Error).message}`);
  }

  let tokenizer: CharTokenizer;
  if (typeof values.vocab === 'string') tokenizer = new CharTokenizer(values.vocab);
  else if (typeof values['vocab-from'] === 'string') {
    tokenizer = CharTokenizer.fromText(await readTextFile(values['vocab-from'], '--vocab-from'));
  } else throw new UsageError('give the vocabulary with --vocab-from TEXTFILE (its sorted distinct characters) or --vocab CHARS');
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new TxError(`the vocabulary has ${tokenizer.vocabSize} characters but --model-args says vocab_size ${config.vocabSize}`);
  }

  await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
  const { tensors } = await loadSafetensorsFile(weights);
  const model = new GPT(config, { rng: new Rng(1337) });
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    throw new TxError(`${weights}: ${(err as Error).message}`);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const settings = resolveSettings([{ task: 'text', data: typeof values['vocab-from'] === 'string' ? values['vocab-from'] : 'imported', nLayer: config.nLayer, nHead: config.nHead, nEmbd: config.nEmbd, blockSize: config.blockSize, dropout: config.dropout, bias: config.bias, out }]);
  const checkpointConfig: TxCheckpointConfig = {
    format: 'tx-checkpoint',
    version: 1,
    task: 'text',
    settings,
    model: { kind: 'gpt', config },
    training: { step: 0, rngState: new Rng(1).getState(), modelRngState: model.rng.getState() },
    importedFrom: { format: 'nanogpt', weights },
  };
  await saveCheckpoint(out, { model, config: checkpointConfig, tokenizer: tokenizer.toJSON() });
  model.dispose();
  io.stdout.write(`imported ${model.numParameters().toLocaleString('en-US')} parameters from ${weights} into ${out}\n`);
}

/** The files the demo site reads: weights, model config and tokenizer (no optimizer state). */
export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, { checkpoint: { type: 'string' }, out: { type: 'string' } });
  const dir = required(values, 'checkpoint');
  const out = required(values, 'out');
  const config = await readCheckpointConfig(dir);
  await mkdir(out, { recursive: true });
  for (const file of ['model.safetensors', 'tokenizer.json']) {
    try {
      await copyFile(join(dir, file), join(out, file));
    } catch (err) {
      throw new TxError(`${join(dir, file)}: cannot copy it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  const manifest = { format: 'tx-export', version: 1, task: config.task, model: config.model, files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' } };
  await writeFileAtomic(join(out, 'config.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  io.stdout.write(`exported ${dir} to ${out} (config.json, model.safetensors, tokenizer.json)\n`);
}
