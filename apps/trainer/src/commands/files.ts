// tx import nanogpt|hf: a nanoGPT state_dict (saved as safetensors), or a
// Hugging Face GPT-2 folder, into a tx checkpoint.
// tx export: a checkpoint as the static files the demo site loads, as a
// Hugging Face GPT-2 folder, or as nanoGPT's state_dict and model_args.
import { copyFile } from 'node:fs/promises';
import { CONFIG_LIMIT, readTextFile } from '../read.js';
import { join } from 'node:path';
import { GPT, checkGPTConfig, gptConfigFromHuggingFace, gptConfigFromNanoGPT, isLlamaFamily, llamaConfigFromHuggingFace, type GPTConfig, type Llama, type NanoGPTModelArgs } from '@tx/blocks';
import { Rng, TxError, initBackend, parseJson, tf } from '@tx/core';
import { loadSafetensorsFile, saveSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import { exportManifest, gptFromHuggingFace, huggingFaceFiles, huggingFaceFolderFromLlama, llamaFromHuggingFace, storedDtype, type HuggingFaceLayout } from '@tx/train';
import { readHuggingFaceTokenizers, readHuggingFaceWeights, replaceFolder, saveCheckpoint } from '@tx/train/node';
import { checkMemory, inferenceUse, memoryBudget } from '../budget.js';
import { openCheckpoint, readCheckpointConfig, type TxCheckpointConfig } from '../model-io.js';
import { checkOut } from '../out.js';
import { EXPORT_FLAGS, IMPORT_FLAGS } from '../flags.js';
import { parse, required, UsageError, type Io } from '../args.js';
import { resolveSettings } from '../settings.js';

export async function importCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parse(argv, IMPORT_FLAGS, 1);
  if (positionals[0] === 'hf') return importHuggingFace(values, io);
  if (positionals[0] !== 'nanogpt') throw new UsageError(`tx import knows two formats, "nanogpt" and "hf"; got ${positionals[0] === undefined ? 'none' : `"${positionals[0]}"`}`);
  const weights = required(values, 'weights');
  const out = required(values, 'out');
  const args = parseJson(required(values, 'model-args'), '--model-args', UsageError) as NanoGPTModelArgs;
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
  await saveImported(out, model, tokenizer, { format: 'nanogpt', source: weights, data: typeof values['vocab-from'] === 'string' ? values['vocab-from'] : null, force });
  io.stdout.write(`imported ${model.numParameters().toLocaleString('en-US')} parameters from ${weights} into ${out}\n`);
  model.dispose();
}

/** A Hugging Face GPT-2 folder: config.json, model.safetensors or its shards (F32, F16 or BF16), and a tokenizer. */
async function importHuggingFace(values: Record<string, unknown>, io: Io): Promise<void> {
  const dir = required(values, 'dir');
  const out = required(values, 'out');
  const force = values.force === true;
  const file = (name: string) => join(dir, name);
  // Each file is read only if it is a regular file within its kind's limit (@tx/train's huggingface-folder.ts,
  // read.ts): a FIFO, a device or a folder is one line, which names the flag.
  const config = parseJson(await readTextFile(file('config.json'), '--dir', CONFIG_LIMIT), `--dir ${file('config.json')}`);
  const tokenizers = () =>
    readHuggingFaceTokenizers(dir).catch((err: Error) => {
      throw new TxError(`--dir ${err.message}`, { cause: err });
    });
  if (isLlamaFamily(config)) return importLlama(dir, out, config, await tokenizers(), values, io);
  const gptConfig = gptConfigFromHuggingFace(config, file('config.json')); // before reading any weights
  await checkOut(out, { format: 'tx-checkpoint', task: 'text', force, reads: [{ flag: '--dir', path: dir }] });
  const backend = await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
  checkMemory(`${file('config.json')}: the model`, { kind: 'gpt', config: gptConfig }, { batchSize: 1, training: false }, memoryBudget(backend.backend));
  const files = { config, ...(await tokenizers()) };
  // model.safetensors or the index's shards, each checked as a Llama's are (@tx/train's readHuggingFaceWeights).
  const { tensors, dtypes, weightMap } = await readHuggingFaceWeights(dir);
  // Integers are widened to int32 on reading, so name the file's own dtype here: GPT-2 stores only its
  // causal-mask buffers (attn.bias, attn.masked_bias, skipped on import) as integers; any other is not a weight.
  const integer = Object.keys(dtypes).find((name) => !['F64', 'F32', 'F16', 'BF16'].includes(dtypes[name]) && !/\.attn\.(bias|masked_bias)$/.test(name));
  if (integer !== undefined) {
    tf.dispose(Object.values(tensors));
    throw new TxError(`${file(weightMap?.[integer] ?? 'model.safetensors')}: tensor "${integer}" is ${dtypes[integer]}; GPT-2's weights are floats (F32, F16, BF16 or F64)`);
  }
  let imported;
  try {
    imported = gptFromHuggingFace({ ...files, tensors }, dir);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  await saveImported(out, imported.model, imported.tokenizer, { format: 'hf', source: dir, data: null, force });
  io.stdout.write(`imported ${imported.model.numParameters().toLocaleString('en-US')} parameters from ${dir} into ${out}\n`);
  imported.model.dispose();
}

/**
 * A Llama-family folder (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM):
 * config.json checked before any weight is read, then model.safetensors or
 * the index's shards (@tx/train's readHuggingFaceWeights checks each). The
 * checkpoint remembers the original config.json, dtype and shards, so that
 * tx export --format hf writes the same folder back.
 */
async function importLlama(dir: string, out: string, config: unknown, tokenizers: { tokenizerJson?: unknown; txTokenizer?: unknown }, values: Record<string, unknown>, io: Io): Promise<void> {
  const force = values.force === true;
  const llamaConfig = llamaConfigFromHuggingFace(config, join(dir, 'config.json'));
  await checkOut(out, { format: 'tx-checkpoint', task: 'text', force, reads: [{ flag: '--dir', path: dir }] });
  const backend = await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
  const spec = { kind: 'llama', config: llamaConfig } as const;
  checkMemory(`${join(dir, 'config.json')}: the model`, spec, inferenceUse(spec), memoryBudget(backend.backend));
  const weights = await readHuggingFaceWeights(dir);
  let imported;
  try {
    const integer = Object.keys(weights.dtypes).find((name) => !['F64', 'F32', 'F16', 'BF16'].includes(weights.dtypes[name]));
    if (integer !== undefined) throw new TxError(`${dir}: tensor "${integer}" is ${weights.dtypes[integer]}; a Llama-family model's weights are floats (F32, F16, BF16 or F64)`);
    imported = llamaFromHuggingFace({ config, tensors: weights.tensors, ...tokenizers }, dir);
  } finally {
    tf.dispose(Object.values(weights.tensors));
  }
  const layout: HuggingFaceLayout = { dtype: storedDtype(weights.dtypes), weightMap: weights.weightMap };
  await saveImported(out, imported.model, imported.tokenizer, { format: 'hf', source: dir, data: null, force, huggingFace: { config, ...layout } });
  io.stdout.write(`imported ${imported.model.numParameters().toLocaleString('en-US')} parameters from ${dir} into ${out}\n`);
  imported.model.dispose();
}

/** An imported GPT or Llama as a tx checkpoint (task text, step 0); `importedFrom` says where it came from (a Llama's, with its Hugging Face config and layout). */
async function saveImported(out: string, model: GPT | Llama, tokenizer: Tokenizer, from: { format: string; source: string; data: string | null; force: boolean; huggingFace?: Record<string, unknown> }): Promise<void> {
  const c = model.config;
  const [dropout, bias] = 'dropout' in c ? [c.dropout, c.bias] : [0, false];
  const settings = resolveSettings([{ task: 'text', data: from.data ?? 'imported', nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, blockSize: c.blockSize, dropout, bias, out }]);
  const checkpointConfig: TxCheckpointConfig = {
    format: 'tx-checkpoint',
    version: 1,
    task: 'text',
    settings: { ...settings, data: from.data },
    model: 'dropout' in c ? { kind: 'gpt', config: c } : { kind: 'llama', config: c },
    training: { step: 0, rngState: new Rng(1).getState(), modelRngState: model.rng.getState() },
    importedFrom: { format: from.format, path: from.source, ...(from.huggingFace ? { huggingFace: from.huggingFace } : {}) },
  };
  await saveCheckpoint(out, { model, config: checkpointConfig, tokenizer: tokenizer.toJSON() }, { overwrite: from.force });
}

const EXPORT_FORMATS = ['tx-export', 'hf', 'nanogpt'] as const;

/**
 * --format tx-export (default): the files the demo site reads (weights, model
 * config, tokenizer; no optimizer state). hf: a Hugging Face GPT-2 folder
 * (config.json, model.safetensors with Conv1D weights, tx-tokenizer.json).
 * nanogpt: nanoGPT's state_dict as safetensors and its model_args.
 */
export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, EXPORT_FLAGS);
  const dir = required(values, 'checkpoint');
  const out = required(values, 'out');
  const format = (values.format as string | undefined) ?? 'tx-export';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
  // After a crash mid-save the newest complete copy may be dir.old or a temp folder.
  const { dir: source, config } = await readCheckpointConfig(dir);
  const reads = [{ flag: '--checkpoint', path: dir }, { flag: '--checkpoint', path: source }];
  await checkOut(out, { format: 'tx-export', force: values.force === true, reads });
  if (format === 'hf' && config.model.kind === 'llama') return exportLlama(dir, out, config, values, io);
  if (format !== 'tx-export' && config.model.kind !== 'gpt') throw new UsageError(`--format ${format} exports GPT models${format === 'hf' ? ' and Llama-family ones' : ''}; ${dir} holds an ${config.model.kind}`);
  const copy = async (from: string, to: string) => {
    try {
      await copyFile(from, to);
    } catch (err) {
      throw new TxError(`${from}: cannot copy it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  let written: string[];
  if (format === 'hf') {
    const info = await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
    const opened = await openCheckpoint(dir, memoryBudget(info.backend));
    let files: ReturnType<typeof huggingFaceFiles>;
    try {
      files = huggingFaceFiles(opened.model as GPT, opened.tokenizer);
    } finally {
      opened.model.dispose();
    }
    try {
      await replaceFolder(out, async (temp) => {
        await writeFileAtomic(join(temp, 'config.json'), `${JSON.stringify(files.config, null, 2)}\n`);
        await saveSafetensorsFile(join(temp, 'model.safetensors'), files.tensors, { format: 'pt' });
        await writeFileAtomic(join(temp, 'tx-tokenizer.json'), JSON.stringify(files.txTokenizer));
      }, { overwrite: values.force === true, label: 'tx-export' });
    } finally {
      tf.dispose(Object.values(files.tensors));
    }
    written = ['config.json', 'model.safetensors', 'tx-tokenizer.json'];
  } else if (format === 'nanogpt') {
    // A tx checkpoint's weights are nanoGPT's state_dict already (names, [out, in] layout, lm_head.weight).
    await replaceFolder(out, async (temp) => {
      await copy(join(source, 'model.safetensors'), join(temp, 'model.safetensors'));
      await copy(join(source, 'tokenizer.json'), join(temp, 'tokenizer.json'));
      await writeFileAtomic(join(temp, 'model_args.json'), `${JSON.stringify(nanoGPTModelArgs(config.model.config as GPTConfig), null, 2)}\n`);
    }, { overwrite: values.force === true, label: 'tx-export' });
    written = ['model.safetensors', 'model_args.json', 'tokenizer.json'];
  } else {
    await replaceFolder(out, async (temp) => {
      for (const file of ['model.safetensors', 'tokenizer.json']) await copy(join(source, file), join(temp, file));
      await writeFileAtomic(join(temp, 'config.json'), `${JSON.stringify(exportManifest(config.task, config.model), null, 2)}\n`);
    }, { overwrite: values.force === true, label: 'tx-export' });
    written = ['config.json', 'model.safetensors', 'tokenizer.json'];
  }
  io.stdout.write(`exported ${dir} to ${out} (${written.join(', ')})\n`); // the path given, even when a crashed save's copy was read
}

/**
 * A Llama-family checkpoint as a Hugging Face folder: config.json, the
 * weights in the dtype and shards they were imported with (F32 in one
 * model.safetensors for a model trained here), and tx-tokenizer.json.
 */
async function exportLlama(dir: string, out: string, config: TxCheckpointConfig, values: Record<string, unknown>, io: Io): Promise<void> {
  const info = await initBackend({ prefer: (values.backend as 'auto' | undefined) ?? 'auto' });
  const opened = await openCheckpoint(dir, memoryBudget(info.backend));
  const hf = (config.importedFrom as { huggingFace?: { config?: Record<string, unknown> } & Partial<HuggingFaceLayout> } | undefined)?.huggingFace;
  // From the checkpoint's config.json, a file tx did not necessarily write: shard names become file names in --out.
  const weightMap = hf?.weightMap ?? null;
  const badShard = Object.values(weightMap ?? {}).find((f) => typeof f !== 'string' || !/^[\w-][\w.-]*\.safetensors$/.test(f));
  if (badShard !== undefined) throw new TxError(`${dir}/config.json: importedFrom.huggingFace.weightMap names ${JSON.stringify(badShard)}, not a shard file name like model-00001-of-00002.safetensors`);
  const layout: HuggingFaceLayout = { dtype: hf?.dtype === 'BF16' || hf?.dtype === 'F16' ? hf.dtype : 'F32', weightMap };
  let folder: Awaited<ReturnType<typeof huggingFaceFolderFromLlama>>;
  try {
    folder = await huggingFaceFolderFromLlama(opened.model as Llama, layout, hf?.config);
  } finally {
    opened.model.dispose();
  }
  const files = [...folder.files, { name: 'tx-tokenizer.json', bytes: JSON.stringify(opened.tokenizer.toJSON()) }];
  await replaceFolder(out, async (temp) => {
    for (const f of files) await writeFileAtomic(join(temp, f.name), f.bytes);
  }, { overwrite: values.force === true, label: 'tx-export' });
  io.stdout.write(`exported ${dir} to ${out} (${files.map((f) => f.name).sort().join(', ')})\n`);
}

/** nanoGPT's model_args dict for a GPTConfig (the inverse of gptConfigFromNanoGPT). */
function nanoGPTModelArgs(c: GPTConfig): NanoGPTModelArgs {
  return { n_layer: c.nLayer, n_head: c.nHead, n_embd: c.nEmbd, block_size: c.blockSize, bias: c.bias, vocab_size: c.vocabSize, dropout: c.dropout };
}
