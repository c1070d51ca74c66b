// Model configurations: plain typed data, as nanoGPT's GPTConfig dataclass.
//
//   const config = { ...presets['nanogpt-cpu'], vocabSize: tokenizer.vocabSize };
//   const model = new GPT(config, { rng: new Rng(1337) });
import { TxError } from '@tx/core';
import { llamaMini, type LlamaConfig } from './llama-config.js';

/** The feed-forward nonlinearity. 'gelu' is the exact (erf) GELU of nanoGPT's nn.GELU(). */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu';

/** A decoder-only GPT, nanoGPT's architecture. */
export interface GPTConfig {
  /** Number of token ids (nanoGPT: vocab_size). */
  vocabSize: number;
  /** Context length: the longest sequence (nanoGPT: block_size). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Channels (nanoGPT: n_embd). */
  nEmbd: number;
  /** Dropout probability on embeddings, attention, residual branches (nanoGPT: dropout). */
  dropout: number;
  /** Biases in Linear and LayerNorm layers (nanoGPT: bias). */
  bias: boolean;
  /** Feed-forward activation (default 'gelu', exact, as nanoGPT). */
  activation?: Activation;
  /** LayerNorm's epsilon (default 1e-5; GPT-2's layer_norm_epsilon). */
  layerNormEps?: number;
}

/** What the paper's models (encoder-decoder, encoder-only) share: sinusoidal positions and Blocks of one width. */
export interface TransformerConfig {
  /** Context length: the longest sequence (sinusoidal table length). */
  blockSize: number;
  nHead: number;
  /** Model width d_model. */
  dModel: number;
  /** Feed-forward inner width d_ff (the paper: 4 x dModel). */
  dFF: number;
  dropout: number;
  /** Biases in Linear and LayerNorm layers (the paper has them). */
  bias: boolean;
  /** 'post' (the paper: x = LN(x + sublayer(x))) or 'pre' (x = x + sublayer(LN(x)), with a final LN). */
  norm: 'post' | 'pre';
  /** Feed-forward activation (the paper: 'relu'). */
  activation: Activation;
}

/** The original Transformer (Vaswani et al. 2017): encoder, decoder, sinusoidal positions. */
export interface EncoderDecoderConfig extends TransformerConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  nEncoderLayer: number;
  nDecoderLayer: number;
  /** One embedding table for source and target (needs equal vocab sizes), as the paper. */
  sharedEmbeddings: boolean;
  /** The output projection reuses the target embedding, as the paper. */
  tieOutput: boolean;
}

/**
 * An encoder-only Transformer with a pointer (the coref model of `tx train
 * --task coref`): token embedding scaled by √dModel plus sinusoidal positions,
 * nLayer non-causal Blocks, and a pointer over positions that is one of its
 * attention heads: the head's scores from a query token are the pointer's
 * logits, so its softmax is that head's attention row.
 */
export interface EncoderConfig extends TransformerConfig {
  vocabSize: number;
  nLayer: number;
  /** [layer, head]: the attention head that points. Its weights from the query token are the answer. */
  pointerHead: [number, number];
}

/** Model sizes by name (nanoGPT's CPU and Shakespeare runs, GPT-2 small, the paper's base Transformer, llama-mini): spread one and override fields. */
export const presets = {
  /** nanoGPT's CPU configuration on Tiny Shakespeare: 804,096 parameters with vocab 65. */
  'nanogpt-cpu': { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false },
  /** nanoGPT's config/train_shakespeare_char.py. */
  'shakespeare-char': { vocabSize: 65, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false },
  /** GPT-2 small (124M). */
  gpt2: { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0, bias: true },
  /** The explainer's mini transformer: the paper's base model, 6 layers, d_model 512, 8 heads. */
  'mini-transformer': {
    srcVocabSize: 1000,
    tgtVocabSize: 1000,
    blockSize: 256,
    nEncoderLayer: 6,
    nDecoderLayer: 6,
    nHead: 8,
    dModel: 512,
    dFF: 2048,
    dropout: 0.1,
    bias: true,
    norm: 'post',
    sharedEmbeddings: true,
    tieOutput: true,
    activation: 'relu',
  },
  /** The Llama-family twin of nanoGPT's CPU configuration: 4 layers, 128 wide, 4 heads, 2 KV heads, context 64, RoPE, RMSNorm, SiLU-gated MLP. */
  'llama-mini': llamaMini,
} as const satisfies {
  'nanogpt-cpu': GPTConfig;
  'shakespeare-char': GPTConfig;
  gpt2: GPTConfig;
  'mini-transformer': EncoderDecoderConfig;
  'llama-mini': LlamaConfig;
};

/** The name of one of the presets. */
export type PresetName = keyof typeof presets;

/** nanoGPT's `model_args` dict, as saved in its checkpoints. */
export interface NanoGPTModelArgs {
  n_layer: number;
  n_head: number;
  n_embd: number;
  block_size: number;
  bias: boolean;
  vocab_size: number;
  dropout?: number;
}

/** A GPTConfig from nanoGPT's `model_args` (n_layer, n_head, n_embd, block_size, bias, vocab_size, dropout). */
export function gptConfigFromNanoGPT(args: NanoGPTModelArgs): GPTConfig {
  const config: GPTConfig = {
    vocabSize: args.vocab_size,
    blockSize: args.block_size,
    nLayer: args.n_layer,
    nHead: args.n_head,
    nEmbd: args.n_embd,
    dropout: args.dropout ?? 0,
    bias: args.bias,
  };
  checkGPTConfig(config);
  return config;
}

/**
 * The small encoder-decoder of the toy seq2seq tasks (`tx train --task dates`,
 * the demo's dates model): pre-norm, one shared embedding tied to the output, ReLU.
 */
export function seq2seqConfig(vocabSize: number, { nLayer = 2, nHead = 4, dModel = 64, blockSize = 48, dropout = 0 } = {}): EncoderDecoderConfig {
  return {
    srcVocabSize: vocabSize, tgtVocabSize: vocabSize, blockSize,
    nEncoderLayer: nLayer, nDecoderLayer: nLayer, nHead, dModel, dFF: 4 * dModel,
    dropout, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu',
  };
}

/**
 * The small encoder of the coref task (`tx train --task coref`, the demo's
 * coref model): pre-norm, ReLU, biases, d_ff = 4 dModel; the pointer is head 0
 * of the last layer, which can read what earlier layers gathered from the
 * whole sentence.
 */
export function encoderConfig(vocabSize: number, { nLayer = 2, nHead = 4, dModel = 64, blockSize = 32, dropout = 0 } = {}): EncoderConfig {
  return { vocabSize, blockSize, nLayer, nHead, dModel, dFF: 4 * dModel, dropout, bias: true, norm: 'pre', activation: 'relu', pointerHead: [nLayer - 1, 0] };
}

/** Throw a TxError naming every bad field. */
export function checkGPTConfig(config: GPTConfig): void {
  const problems = [
    ...positiveInts(config, ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd']),
    ...probability(config.dropout, 'dropout'),
    ...boolean(config.bias, 'bias'),
    ...activation(config.activation ?? 'gelu'),
    ...(config.layerNormEps === undefined || (typeof config.layerNormEps === 'number' && config.layerNormEps > 0 && config.layerNormEps < 1) ? [] : [`layerNormEps must be a number in (0, 1), got ${JSON.stringify(config.layerNormEps)}`]),
  ];
  if (problems.length === 0 && config.nEmbd % config.nHead !== 0) {
    problems.push(`nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead})`);
  }
  if (problems.length > 0) throw new TxError(`bad GPTConfig: ${problems.join('; ')}`);
}

/** Throw a TxError naming every bad field. */
export function checkEncoderDecoderConfig(config: EncoderDecoderConfig): void {
  const problems = [
    ...positiveInts(config, ['srcVocabSize', 'tgtVocabSize', 'blockSize', 'nEncoderLayer', 'nDecoderLayer', 'nHead', 'dModel', 'dFF']),
    ...probability(config.dropout, 'dropout'),
    ...boolean(config.bias, 'bias'),
    ...boolean(config.sharedEmbeddings, 'sharedEmbeddings'),
    ...boolean(config.tieOutput, 'tieOutput'),
    ...activation(config.activation),
  ];
  if (config.norm !== 'post' && config.norm !== 'pre') problems.push(`norm must be 'post' or 'pre', got ${JSON.stringify(config.norm)}`);
  if (problems.length === 0 && config.dModel % config.nHead !== 0) {
    problems.push(`dModel (${config.dModel}) must be divisible by nHead (${config.nHead})`);
  }
  if (problems.length === 0 && config.sharedEmbeddings && config.srcVocabSize !== config.tgtVocabSize) {
    problems.push(`sharedEmbeddings needs srcVocabSize (${config.srcVocabSize}) = tgtVocabSize (${config.tgtVocabSize})`);
  }
  if (problems.length > 0) throw new TxError(`bad EncoderDecoderConfig: ${problems.join('; ')}`);
}

/** Throw a TxError naming every bad field. */
export function checkEncoderConfig(config: EncoderConfig): void {
  const problems = [
    ...positiveInts(config, ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'dModel', 'dFF']),
    ...probability(config.dropout, 'dropout'),
    ...boolean(config.bias, 'bias'),
    ...activation(config.activation),
  ];
  if (config.norm !== 'post' && config.norm !== 'pre') problems.push(`norm must be 'post' or 'pre', got ${JSON.stringify(config.norm)}`);
  if (problems.length === 0 && config.dModel % config.nHead !== 0) {
    problems.push(`dModel (${config.dModel}) must be divisible by nHead (${config.nHead})`);
  }
  const ph = config.pointerHead;
  const inRange = (v: unknown, n: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;
  if (!Array.isArray(ph) || ph.length !== 2 || (problems.length === 0 && !(inRange(ph[0], config.nLayer) && inRange(ph[1], config.nHead)))) {
    problems.push(`pointerHead must be [layer, head] with layer in [0, ${config.nLayer}) and head in [0, ${config.nHead}), got ${JSON.stringify(ph)}`);
  }
  if (problems.length > 0) throw new TxError(`bad EncoderConfig: ${problems.join('; ')}`);
}

function positiveInts<T extends object>(config: T, keys: Array<keyof T & string>): string[] {
  return keys
    .filter((k) => !(Number.isInteger(config[k]) && (config[k] as number) >= 1))
    .map((k) => `${k} must be a positive integer, got ${JSON.stringify(config[k])}`);
}

function probability(p: unknown, name: string): string[] {
  return typeof p === 'number' && p >= 0 && p < 1 ? [] : [`${name} must be a number in [0, 1), got ${JSON.stringify(p)}`];
}

function boolean(b: unknown, name: string): string[] {
  return typeof b === 'boolean' ? [] : [`${name} must be true or false, got ${JSON.stringify(b)}`];
}

function activation(a: unknown): string[] {
  return a === 'gelu' || a === 'gelu_tanh' || a === 'relu' ? [] : [`activation must be 'gelu', 'gelu_tanh' or 'relu', got ${JSON.stringify(a)}`];
}
