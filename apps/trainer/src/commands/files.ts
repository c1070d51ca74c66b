// tx import nanogpt: a nanoGPT state_dict (saved as safetensors) into a tx checkpoint.
// tx export: a checkpoint as the static files the demo site loads.
import { copyFile } from 'node:fs/promises';
import { readTextFile } from '../read.js';
import { join } from 'node:path';
import { GPT, checkGPTConfig, gptConfigFromNanoGPT, type NanoGPTModelArgs } from '@tx/blocks';
import { Rng, TxError, initBackend, tf } from '@tx/core';
import { loadSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import { CharTokenizer } from '@tx/tokenizer';
import { replaceFolder, saveCheckpoint } from '@tx/train/node';
import { checkMemory, memoryBudget } from '../budget.js';
import { readCheckpointConfig, type TxCheckpointConfig } from '../model-io.js';
import { checkOut } from '../out.js';
import { parse, required, UsageError, type Io } from '../run.js';
import { resolveSettings } from '../settings.js';

export async function importCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, 'model-args': { type: 'string' }, 'vocab-from': { type: 'string' }, vocab: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' }, force: { type: 'boolean' },
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

  const force = values.force === true;
  const reads = [{ flag: '--weights', path: weights }, ...(typeof values['vocab-from'] === 'string' ? [{ flag: '--vocab-from', path: values['vocab-from'] }] : [])];
  await checkOut(out, { format: 'tx-checkpoint', task: 'text', force, reads });
  const backend = await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
  checkMemory('--model-args: the model', { kind: 'gpt', config }, { batchSize: 1, training: false }, memoryBudget(backend.backend));
  const { tensors } = await loadSafetensorsFile(weights, { requireFinite: true });
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
  await saveCheckpoint(out, { model, config: checkpointConfig, tokenizer: tokenizer.toJSON() }, { overwrite: force });
  model.dispose();
  io.stdout.write(`imported ${model.numParameters().toLocaleString('en-US')} parameters from ${weights} into ${out}\n`);
}

/** The files the demo site reads: weights, model config and tokenizer (no optimizer state). */
export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, { checkpoint: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } });
  const dir = required(values, 'checkpoint');
  const out = required(values, 'out');
  // After a crash mid-save the newest complete copy may be dir.old or a temp folder.
  const { dir: source, config } = await readCheckpointConfig(dir);
  const reads = [{ flag: '--checkpoint', path: dir }, { flag: '--checkpoint', path: source }];
  await checkOut(out, { format: 'tx-export', force: values.force === true, reads });
  await replaceFolder(
    out,
    async (temp) => {
      for (const file of ['model.safetensors', 'tokenizer.json']) {
        try {
          await copyFile(join(source, file), join(temp, file));
        } catch (err) {
          throw new TxError(`${join(source, file)}: cannot copy it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      const manifest = { format: 'tx-export', version: 1, task: config.task, model: config.model, files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' } };
      await writeFileAtomic(join(temp, 'config.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    },
    { overwrite: values.force === true },
  );
  io.stdout.write(`exported ${source} to ${out} (config.json, model.safetensors, tokenizer.json)\n`);
}
