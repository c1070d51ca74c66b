// One call from a model folder's files to a model you can run, in a browser or
// in Node (./load-node.ts reads a folder from disk with it):
//
//   const loaded = modelFromFiles({ config, weights, tokenizer }, 'runs/names');
//   if (loaded.kind === 'gpt') await generate(loaded.model, loaded.start, { ...loaded.defaults, maxNewTokens: 30 });
//
// config.json may be a `tx train` checkpoint's or a `tx export`'s (parseManifest
// reads both) or a Hugging Face GPT-2 folder's. The result is narrowed by
// `kind`, and carries what the task needs to generate: the ids a sample starts
// from (`start`) and where it ends (`defaults`: eosId, stop strings, and the
// tokenizer that turns ids into text).
import { buildModel, isLlamaFamily, modelVocabSize, type Encoder, type EncoderDecoderTransformer, type GPT, type Llama, type ModelSpec, type Seq2SeqSpecials } from '@tx/blocks';
import { TxError, loadSafetensors, tf, type StateDict } from '@tx/core';
import { WordTokenizer, loadTokenizer, type Tokenizer } from '@tx/tokenizer';
import { gptFromHuggingFace, type HuggingFaceFiles } from './huggingface.js';
import { llamaFromHuggingFace } from './huggingface-llama.js';
import { parseManifest } from './manifest.js';

/** How a task's samples end, as generate() and streamTokens() options: spread them into yours. */
export interface GenerationDefaults {
  /** Turns ids into text (each streamed token's `text`). */
  tokenizer: Tokenizer;
  /** The id that ends a sequence (an encoder-decoder's <eos>, GPT-2's <|endoftext|>). */
  eosId?: number;
  /** Strings that end a sample (a name ends at its newline). */
  stop?: string[];
}

interface Common {
  tokenizer: Tokenizer;
  /** What config.json says of the model (kind and config). */
  spec: ModelSpec;
  /** The task it was trained on ("names", "text", "dates", ..., "coref"), or "huggingface" for an imported folder. */
  task: string;
}

/** A decoder-only GPT: `generate(model, start, { ...defaults })` samples from it. */
export interface LoadedGPT extends Common {
  kind: 'gpt';
  model: GPT;
  /** The ids a sample starts from: a newline for names and character-level text, <|endoftext|> for GPT-2. */
  start: number[];
  defaults: GenerationDefaults;
}

/** An encoder-decoder (dates, copy, reverse): `generate(model.conditionOn(sourceIds, { padId: specials.pad }), start, { ...defaults })`. */
export interface LoadedEncoderDecoder extends Common {
  kind: 'encoder-decoder';
  model: EncoderDecoderTransformer;
  specials: Seq2SeqSpecials;
  /** [<bos>]: the target starts there. */
  start: number[];
  defaults: GenerationDefaults;
}

/** The coref encoder: it does not generate; its pointer head answers who "it" is (@tx/train's corefReading). */
export interface LoadedEncoder extends Common {
  kind: 'encoder';
  model: Encoder;
  tokenizer: WordTokenizer;
}

/** A Llama-family decoder (trained with --preset llama-mini, or a Hugging Face Llama, Mistral or Qwen2 folder): `generate(model, start, { ...defaults })`. */
export interface LoadedLlama extends Common {
  kind: 'llama';
  model: Llama;
  /** The ids a sample starts from: a newline for character-level text, the folder's bos_token_id for Hugging Face's. */
  start: number[];
  defaults: GenerationDefaults;
}

/** What loadModel and modelFromFiles return, narrowed by `kind`. */
export type LoadedModel = LoadedGPT | LoadedEncoderDecoder | LoadedEncoder | LoadedLlama;

/** A tx model folder's files, already read: config.json parsed, model.safetensors' bytes (or tensors), tokenizer.json parsed. */
export interface ModelFiles {
  config: unknown;
  /** model.safetensors' bytes, or its tensors (then the caller keeps and disposes them). */
  weights: Uint8Array | StateDict;
  tokenizer: unknown;
}

/**
 * The model a `tx train` checkpoint's or `tx export`'s files describe, in eval
 * mode, with its tokenizer and generation defaults. `where` names the folder in
 * errors. For a Hugging Face folder use {@link modelFromHuggingFace}.
 */
export function modelFromFiles(files: ModelFiles, where: string): LoadedModel {
  const manifest = parseManifest(files.config, `${where}/config.json`);
  const spec = manifest.model;
  let tokenizer: Tokenizer;
  try {
    tokenizer = loadTokenizer(files.tokenizer);
  } catch (err) {
    throw new TxError(`${where}/tokenizer.json: ${(err as Error).message}`);
  }
  const rows = modelVocabSize(spec);
  if (tokenizer.vocabSize > rows) throw new TxError(`${where}/tokenizer.json: the tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding has ${rows} rows`);
  if (spec.kind === 'encoder' && !(tokenizer instanceof WordTokenizer)) throw new TxError(`${where}/tokenizer.json: an encoder reads words: expected a word tokenizer, found kind "${tokenizer.kind}"`);

  const model = buildModel(spec);
  const owned = files.weights instanceof Uint8Array;
  let tensors: StateDict = {};
  try {
    tensors = files.weights instanceof Uint8Array ? loadSafetensors(files.weights, `${where}/model.safetensors`).tensors : files.weights;
    model.loadStateDict(tensors);
  } catch (err) {
    model.dispose();
    throw new TxError(`${where}/model.safetensors: ${(err as Error).message}`);
  } finally {
    if (owned) tf.dispose(Object.values(tensors));
  }
  model.eval();
  const task = typeof manifest.task === 'string' ? manifest.task : 'text';
  if (spec.kind === 'encoder') return { kind: 'encoder', model: model as Encoder, tokenizer: tokenizer as WordTokenizer, spec, task };
  if (spec.kind === 'encoder-decoder') {
    const { specials } = spec;
    return { kind: 'encoder-decoder', model: model as EncoderDecoderTransformer, tokenizer, spec, task, specials, start: [specials.bos], defaults: { tokenizer, eosId: specials.eos } };
  }
  if (spec.kind === 'llama') return { kind: 'llama', model: model as Llama, tokenizer, spec, task, ...gptDefaults(task, tokenizer) };
  return { kind: 'gpt', model: model as GPT, tokenizer, spec, task, ...gptDefaults(task, tokenizer) };
}

/**
 * A Hugging Face folder's files (config.json, tensors, a tokenizer) as a loaded
 * model: GPT-2's samples start and end at <|endoftext|>; a Llama-family
 * model's (all shards' tensors together) start at bos_token_id and end at eos_token_id.
 */
export function modelFromHuggingFace(files: HuggingFaceFiles, where: string): LoadedGPT | LoadedLlama {
  if (isLlamaFamily(files.config)) {
    const { model, tokenizer, config } = llamaFromHuggingFace(files, where);
    model.eval();
    const raw = files.config as { bos_token_id?: unknown; eos_token_id?: unknown };
    const id = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) < tokenizer.vocabSize ? (v as number) : undefined);
    const [bos, eos] = [id(raw.bos_token_id), id(Array.isArray(raw.eos_token_id) ? raw.eos_token_id[0] : raw.eos_token_id)];
    return { kind: 'llama', model, tokenizer, spec: { kind: 'llama', config }, task: 'huggingface', start: bos === undefined ? [0] : [bos], defaults: eos === undefined ? { tokenizer } : { tokenizer, eosId: eos } };
  }
  const { model, tokenizer, config } = gptFromHuggingFace(files, where);
  model.eval();
  const eot = tokenizer.specialTokens['<|endoftext|>'];
  const defaults: GenerationDefaults = eot === undefined ? { tokenizer } : { tokenizer, eosId: eot };
  return { kind: 'gpt', model, tokenizer, spec: { kind: 'gpt', config }, task: 'huggingface', start: eot === undefined ? [0] : [eot], defaults };
}

// Names are lines: a sample starts after a newline and ends at the next one.
// Character-level text starts after a newline too (when the vocabulary has one).
function gptDefaults(task: string, tokenizer: Tokenizer): { start: number[]; defaults: GenerationDefaults } {
  let newline: number[] = [];
  try {
    newline = tokenizer.encode('\n');
  } catch {
    // A character vocabulary without a newline: start from id 0, as `tx sample` does.
  }
  const start = newline.length > 0 ? newline : [0];
  return { start, defaults: task === 'names' ? { tokenizer, stop: ['\n'] } : { tokenizer } };
}
