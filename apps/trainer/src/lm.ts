// `tx train --task names|text`: a character (or BPE) GPT language model.
import { readTextFile } from './read.js';
import { GPT, Llama, llamaMini, type GPTConfig, type LlamaConfig, type ModelSpec } from '@tx/blocks';
import { Rng, TxError, kernelsInfo, tf } from '@tx/core';
import { generate } from '@tx/generate';
import { BpeTokenizer, CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import { TokenDataset, languageModelLoss, type Batch } from '@tx/train';
import type { OpenedCheckpoint } from './model-io.js';
import { loadNames } from './names.js';
import { checkMemory, memoryBudget } from './budget.js';
import { runSession, type Output, type SessionResult } from './session.js';
import { withinTokenizer } from './tokenizer-rows.js';
import type { ResolvedSettings } from './settings.js';

/** The training text of a task: the names corpus (shuffled, one per line) or a user's file. */
export async function corpusText(s: Pick<ResolvedSettings, 'task' | 'data' | 'seed'>): Promise<string> {
  if (s.task === 'names') {
    // Shuffled so that the last 10% (validation) is not just the names from S to Z.
    const names = loadNames();
    const rng = new Rng(s.seed);
    for (let i = names.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [names[i], names[j]] = [names[j], names[i]];
    }
    return `${names.join('\n')}\n`;
  }
  const path = s.data!;
  const text = await readTextFile(path, '--data'); // a regular file, within the corpus limit (read.ts)
  if (text.length === 0) throw new TxError(`--data ${path}: the file is empty`);
  return text;
}

/**
 * A corpus as token ids, with a checkpoint's tokenizer when resuming or
 * evaluating. Its path may come from the checkpoint's settings.data, a file
 * tx did not choose (a hostile checkpoint can name /etc/shadow): a character
 * the tokenizer does not know is reported by its line and column, never
 * echoed, after `where` (the file, and where its path came from).
 */
export function encodeCorpus(tokenizer: Tokenizer, text: string, where: string): number[] {
  try {
    return tokenizer.encode(text);
  } catch (err) {
    if (!(err instanceof TxError)) throw err;
    const at = /\((line \d+, column \d+)\)/.exec((err as Error).message)?.[1];
    throw new TxError(
      `${where}: the checkpoint's tokenizer cannot encode it (${at ? `${at} holds` : 'it holds'} a character outside its ${tokenizer.vocabSize}-token vocabulary); give the corpus it was trained on with --data`,
    );
  }
}

export async function trainLanguageModel(s: ResolvedSettings, output: Output, resumed?: OpenedCheckpoint, { overwrite = false } = {}): Promise<SessionResult> {
  const text = await corpusText(s);
  const tokenizer: Tokenizer = resumed?.tokenizer ?? (s.tokenizer === 'bpe' ? BpeTokenizer.train(text, { vocabSize: s.vocabSize, pattern: 'gpt2' }) : CharTokenizer.fromText(text));
  const fromCheckpoint = resumed !== undefined && resumed.config.settings.data === s.data;
  const where = fromCheckpoint ? `--resume ${resumed.raw.dir}: its corpus ${s.data} (settings.data)` : `--data ${s.data ?? 'the names corpus'}`;
  const data = new TokenDataset(encodeCorpus(tokenizer, text, where), { name: s.data ?? 'the names corpus', vocabSize: resumed ? (resumed.model as GPT).config.vocabSize : tokenizer.vocabSize });
  const B = s.batchSize;
  const T = s.blockSize;
  for (const split of ['train', 'val'] as const) {
    if (data[split].length < T + 1) {
      throw new TxError(`${s.data ?? 'the corpus'}: the ${split} split has ${data[split].length} tokens, fewer than the context + 1 (${T + 1}); use more text or a smaller --config blockSize`);
    }
  }
  const config: GPTConfig = { vocabSize: tokenizer.vocabSize, blockSize: T, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, dropout: s.dropout, bias: s.bias };
  // A resumed run keeps its checkpoint's model (a GPT, or a Llama imported from Hugging Face); settings.model 'llama' (--preset llama-mini) trains one from scratch.
  const spec: ModelSpec = resumed ? resumed.config.model : s.model === 'llama' ? { kind: 'llama', config: llamaConfig(s, tokenizer.vocabSize) } : { kind: 'gpt', config };
  if (spec.kind !== 'gpt' && spec.kind !== 'llama') throw new TxError(`--resume ${resumed!.raw.dir}: a ${spec.kind} model is not a language model of --task ${s.task}`);
  checkMemory('training this model', spec, { batchSize: B, training: true }, memoryBudget(tf.getBackend()));
  const model = (resumed?.model as GPT | Llama | undefined) ?? (spec.kind === 'llama' ? new Llama(spec.config, { rng: new Rng(s.seed) }) : new GPT(config, { rng: new Rng(s.seed) }));

  emitStart(output, s, model.numParameters(), tokenizer.vocabSize, data);
  const result = await runSession<Batch>({
    settings: s,
    model,
    spec,
    tokenizer,
    loss: (b) => languageModelLoss(model, b),
    sample: (split, rng) => data.batch(split, B, T, rng),
    tokensPerBatch: B * T,
    output,
    resumed,
    overwrite,
  });
  if (!result.aborted) await printSamples(model, tokenizer, s, output);
  finish(output, s.out, result.valLoss, result.aborted);
  model.dispose();
  return result;
}

/**
 * A Llama-family model of the run's size: llama-mini's choices (half as many
 * KV heads as heads when even, an MLP of 8/3 the width rounded to 8, RoPE base
 * 10,000, a tied head) at the settings' layers, heads, width and context.
 */
function llamaConfig(s: ResolvedSettings, vocabSize: number): LlamaConfig {
  const { nLayer, nHead, nEmbd, blockSize } = s;
  return { ...llamaMini, vocabSize, blockSize, nLayer, nHead, nEmbd, headDim: nEmbd / nHead, nKvHead: nHead % 2 === 0 ? nHead / 2 : nHead, intermediateSize: 8 * Math.round((nEmbd * 8) / 3 / 8) };
}

/** A few samples at the end: names start after a newline and end at the next one. */
async function printSamples(model: GPT | Llama, tokenizer: Tokenizer, s: ResolvedSettings, output: Output): Promise<void> {
  model.eval();
  const newline = tokenizer.encode('\n');
  const prompt = newline.length ? newline : [0];
  const count = s.task === 'names' ? 10 : 2;
  if (!output.json) output.write(s.task === 'names' ? 'samples:\n' : 'samples:\n---\n');
  for (let i = 0; i < count; i++) {
    const out = await generate(withinTokenizer(model, tokenizer.vocabSize), prompt, {
      tokenizer,
      seed: s.seed + i,
      maxNewTokens: s.task === 'names' ? 30 : 300,
      stop: s.task === 'names' ? ['\n'] : undefined,
    });
    if (output.json) output.write(`${JSON.stringify({ event: 'sample', text: out.text })}\n`);
    else output.write(s.task === 'names' ? `  ${out.text}\n` : `${out.text}\n---\n`);
  }
}

export function emitStart(output: Output, s: ResolvedSettings, parameters: number, vocabSize: number, data?: TokenDataset): void {
  const k = kernelsInfo();
  // More threads asked than cores: @tx/core starts as many as the cores, and the line says so.
  const clamped = k.active && k.threadsAsked > k.threads;
  const kernels = k.active ? { kernels: k.simd, threads: k.threads, ...(clamped ? { threadsAsked: k.threadsAsked } : {}) } : {};
  const event = { event: 'start', task: s.task, backend: tf.getBackend(), ...kernels, parameters, vocabSize, ...(data ? { trainTokens: data.train.length, valTokens: data.val.length } : {}) };
  const asked = clamped ? `, ${k.threadsAsked} asked: this machine has ${k.threads} core${k.threads > 1 ? 's' : ''}` : '';
  const on = k.active ? ` with @tx's kernels (${k.simd}, ${k.threads} thread${k.threads > 1 ? 's' : ''}${asked})` : '';
  if (output.json) output.write(`${JSON.stringify(event)}\n`);
  else output.write(`task ${s.task} on ${tf.getBackend()}${on}: ${parameters.toLocaleString('en-US')} parameters, vocabulary ${vocabSize}${data ? `, ${data.train.length.toLocaleString('en-US')} train / ${data.val.length.toLocaleString('en-US')} val tokens` : ''}\n`);
}

export function finish(output: Output, checkpoint: string, valLoss: number, aborted: boolean): void {
  if (aborted) return;
  if (output.json) output.write(`${JSON.stringify({ event: 'done', checkpoint, valLoss })}\n`);
  else output.write(`checkpoint saved to ${checkpoint} (val loss ${valLoss.toFixed(4)})\n`);
}
