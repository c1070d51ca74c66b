// A model as data, the way checkpoints and exports store it (config.json's
// "model" field): its kind, its config and, for an encoder-decoder, the ids of
// its special tokens. buildModel turns it into a model; both apps use this.
import { Rng, TxError } from '@tx/core';
import { checkEncoderConfig, checkEncoderDecoderConfig, checkGPTConfig, type EncoderConfig, type EncoderDecoderConfig, type GPTConfig } from './config.js';
import { Encoder } from './encoder.js';
import { EncoderDecoderTransformer } from './encoder-decoder.js';
import { GPT } from './gpt.js';
import { Llama } from './llama.js';
import { checkLlamaConfig, type LlamaConfig } from './llama-config.js';

/** Padding, begin and end of a target sequence. */
export interface Seq2SeqSpecials {
  pad: number;
  bos: number;
  eos: number;
}

/** A model as data, as config.json stores it: its kind and config (and an encoder-decoder's special ids). */
export type ModelSpec =
  | { kind: 'gpt'; config: GPTConfig }
  | { kind: 'encoder-decoder'; config: EncoderDecoderConfig; specials: Seq2SeqSpecials }
  | { kind: 'encoder'; config: EncoderConfig }
  | { kind: 'llama'; config: LlamaConfig };

/** Any model buildModel makes: a GPT, an encoder-decoder, an encoder or a Llama-family decoder. */
export type AnyModel = GPT | EncoderDecoderTransformer | Encoder | Llama;

const KINDS = ['gpt', 'encoder-decoder', 'encoder', 'llama'] as const;

/** The model a ModelSpec describes, with fresh weights drawn from `rng` (load a state dict into it). */
export function buildModel(spec: ModelSpec, { rng = new Rng(1337) }: { rng?: Rng } = {}): AnyModel {
  if (spec.kind === 'gpt') return new GPT(spec.config, { rng });
  if (spec.kind === 'encoder') return new Encoder(spec.config, { rng });
  if (spec.kind === 'llama') return new Llama(spec.config, { rng });
  return new EncoderDecoderTransformer(spec.config, { rng });
}

/** The embedding's rows: every id a tokenizer produces for this model must be below this. */
export function modelVocabSize(spec: ModelSpec): number {
  return spec.kind === 'encoder-decoder' ? Math.min(spec.config.srcVocabSize, spec.config.tgtVocabSize) : spec.config.vocabSize;
}

/**
 * Check a spec read from a file, naming the field ("runs/x/config.json: model.config is a bad GPTConfig: ...").
 * Returns it with older names updated (an encoder-decoder's maxLen is now blockSize).
 */
export function parseModelSpec(value: unknown, where: string): ModelSpec {
  const bad = (field: string, message: string): never => {
    throw new TxError(`${where}: ${field} ${message}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return bad('model', 'must be an object');
  if (!KINDS.includes(value.kind as never)) return bad('model.kind', `must be "gpt", "encoder-decoder", "encoder" or "llama", got ${JSON.stringify(value.kind)}`);
  if (!isObject(value.config)) return bad('model.config', 'must be an object');
  const config = { ...value.config };
  if (value.kind === 'encoder-decoder' && config.blockSize === undefined && config.maxLen !== undefined) {
    config.blockSize = config.maxLen; // written before version 0.1
    delete config.maxLen;
  }
  try {
    if (value.kind === 'gpt') checkGPTConfig(config as unknown as GPTConfig);
    else if (value.kind === 'encoder') checkEncoderConfig(config as unknown as EncoderConfig);
    else if (value.kind === 'llama') checkLlamaConfig(config as unknown as LlamaConfig);
    else checkEncoderDecoderConfig(config as unknown as EncoderDecoderConfig);
  } catch (err) {
    bad('model.config', `is a ${(err as Error).message}`);
  }
  if (value.kind === 'gpt') return { kind: 'gpt', config: config as unknown as GPTConfig };
  if (value.kind === 'encoder') return { kind: 'encoder', config: config as unknown as EncoderConfig };
  if (value.kind === 'llama') return { kind: 'llama', config: config as unknown as LlamaConfig };
  const spec = { kind: 'encoder-decoder', config: config as unknown as EncoderDecoderConfig, specials: value.specials } as ModelSpec & { kind: 'encoder-decoder' };
  const rows = modelVocabSize(spec);
  if (!isObject(value.specials)) return bad('model.specials', 'must be an object { pad, bos, eos }');
  for (const name of ['pad', 'bos', 'eos'] as const) {
    const id = value.specials[name];
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= rows) bad(`model.specials.${name}`, `must be an id in [0, ${rows}), got ${JSON.stringify(id)}`);
  }
  return spec;
}
