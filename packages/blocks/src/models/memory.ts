// How much memory a model needs, from its config alone: checked before a
// single tensor is allocated, so that a config asking for 1e9 layers (or a
// batch that cannot fit) is refused in one line instead of growing the wasm
// heap to its 4 GB limit and crashing a minute later.
//
// Parameters are counted exactly (the tests compare with numParameters()).
// Activations are an estimate of what tfjs keeps alive at the peak, in float32:
//   training: every intermediate of the forward pass, kept for backward:
//     per token and layer about 20·C values (x, norms, q, k, v, projections,
//     the 4·C feed-forward and its activation) plus 3·H·T (scores, softmax,
//     masked scores), and the logits three times (logits, softmax, gradient);
//     weights, gradients and AdamW's two moments: 4 copies of the parameters.
//   inference: one layer's intermediates at a time (12·C + 2·H·T per token),
//     the logits twice, and the weights once.
import type { EncoderConfig, EncoderDecoderConfig, GPTConfig } from './config.js';
import { llamaParameters, type LlamaConfig } from './llama-config.js';

/** The memory a model needs: its parameters, their bytes (with gradients and AdamW moments when training), activations, and the total. */
export interface MemoryEstimate {
  parameters: number;
  /** Weights, plus gradients and optimizer moments when training. */
  parameterBytes: number;
  activationBytes: number;
  totalBytes: number;
}

/** What a model is used for, for a memory estimate: batch size, sequence length, training or not. */
export interface MemoryUse {
  /** Sequences per step (training) or per forward pass. */
  batchSize: number;
  /** Tokens per sequence; defaults to the context length. */
  length?: number;
  /** Gradients and AdamW moments, and activations kept for backward. */
  training: boolean;
}

const FLOAT = 4;

/** Parameters of one Transformer block of width C with `attentions` attention sublayers. */
function blockParameters(C: number, ff: number, bias: boolean, attentions: number): number {
  const norm = bias ? 2 * C : C;
  const attention = 4 * C * C + (bias ? 4 * C : 0);
  const feedForward = 2 * C * ff + (bias ? ff + C : 0);
  return attentions * (norm + attention) + norm + feedForward;
}

/** How many parameters a GPT with this config has, as nanoGPT counts them (wpe included), without building it. */
export function gptParameters(c: GPTConfig): number {
  const C = c.nEmbd;
  const norm = c.bias ? 2 * C : C;
  return c.vocabSize * C + c.blockSize * C + c.nLayer * blockParameters(C, 4 * C, c.bias, 1) + norm; // lm_head is tied to wte
}

/** How many parameters an encoder-decoder with this config has, without building it. */
export function encoderDecoderParameters(c: EncoderDecoderConfig): number {
  const C = c.dModel;
  const norm = c.bias ? 2 * C : C;
  const embeddings = c.sharedEmbeddings ? c.tgtVocabSize * C : (c.srcVocabSize + c.tgtVocabSize) * C;
  const head = c.tieOutput ? 0 : c.tgtVocabSize * C; // lm_head has no bias
  const finalNorms = c.norm === 'pre' ? 2 * norm : 0;
  return embeddings + c.nEncoderLayer * blockParameters(C, c.dFF, c.bias, 1) + c.nDecoderLayer * blockParameters(C, c.dFF, c.bias, 2) + head + finalNorms;
}

/** How many parameters an encoder with this config has, without building it. */
export function encoderParameters(c: EncoderConfig): number {
  const norm = c.bias ? 2 * c.dModel : c.dModel;
  return c.vocabSize * c.dModel + c.nLayer * blockParameters(c.dModel, c.dFF, c.bias, 1) + (c.norm === 'pre' ? norm : 0);
}

/** The memory a GPT with this config needs for this use, before anything is allocated. */
export function estimateGPTMemory(c: GPTConfig, use: MemoryUse): MemoryEstimate {
  const T = use.length ?? c.blockSize;
  return estimate(gptParameters(c), use, use.batchSize * T, [{ layers: c.nLayer, C: c.nEmbd, ff: 4 * c.nEmbd, H: c.nHead, T }], c.vocabSize);
}

/** The memory an encoder-decoder with this config needs for this use, before anything is allocated. */
export function estimateEncoderDecoderMemory(c: EncoderDecoderConfig, use: MemoryUse): MemoryEstimate {
  const T = use.length ?? c.blockSize;
  const layer = { C: c.dModel, ff: c.dFF, H: c.nHead, T };
  // The decoder's cross-attention scores are [T, S] like its self-attention: count its layers twice.
  return estimate(encoderDecoderParameters(c), use, use.batchSize * T, [{ ...layer, layers: c.nEncoderLayer }, { ...layer, layers: 2 * c.nDecoderLayer }], c.tgtVocabSize);
}

/** The memory an encoder with this config needs for this use, before anything is allocated. */
export function estimateEncoderMemory(c: EncoderConfig, use: MemoryUse): MemoryEstimate {
  const T = use.length ?? c.blockSize;
  // The output is one pointer logit per position, not a vocabulary's worth.
  return estimate(encoderParameters(c), use, use.batchSize * T, [{ layers: c.nLayer, C: c.dModel, ff: c.dFF, H: c.nHead, T }], 1);
}

/** The memory a Llama-family model with this config needs for this use (the gated MLP's three inner tensors counted as two more feed-forwards' worth), before anything is allocated. */
export function estimateLlamaMemory(c: LlamaConfig, use: MemoryUse): MemoryEstimate {
  const T = use.length ?? c.blockSize;
  return estimate(llamaParameters(c), use, use.batchSize * T, [{ layers: c.nLayer, C: Math.max(c.nEmbd, c.nHead * c.headDim), ff: 2 * c.intermediateSize, H: c.nHead, T }], c.vocabSize);
}

/** The estimate for any model spec's config. */
export function estimateMemory(spec: { kind: 'gpt'; config: GPTConfig } | { kind: 'encoder-decoder'; config: EncoderDecoderConfig } | { kind: 'encoder'; config: EncoderConfig } | { kind: 'llama'; config: LlamaConfig }, use: MemoryUse): MemoryEstimate {
  if (spec.kind === 'gpt') return estimateGPTMemory(spec.config, use);
  if (spec.kind === 'llama') return estimateLlamaMemory(spec.config, use);
  if (spec.kind === 'encoder') return estimateEncoderMemory(spec.config, use);
  return estimateEncoderDecoderMemory(spec.config, use);
}

function estimate(parameters: number, use: MemoryUse, tokens: number, stacks: Array<{ layers: number; C: number; ff: number; H: number; T: number }>, vocab: number): MemoryEstimate {
  const parameterBytes = parameters * FLOAT * (use.training ? 4 : 1);
  const perToken = (s: (typeof stacks)[number]) => (use.training ? 12 * s.C + 2 * s.ff + 3 * s.H * s.T : 4 * s.C + 2 * s.ff + 2 * s.H * s.T);
  const layers = use.training ? stacks.reduce((sum, s) => sum + s.layers * perToken(s), 0) : Math.max(...stacks.map(perToken));
  const activationBytes = tokens * (layers + (use.training ? 3 : 2) * vocab) * FLOAT;
  return { parameters, parameterBytes, activationBytes, totalBytes: parameterBytes + activationBytes };
}
