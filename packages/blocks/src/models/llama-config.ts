// The Llama family's configuration (Llama 2 and 3, Mistral, Qwen2, SmolLM,
// TinyLlama): plain typed data, as GPTConfig. The fields are Hugging Face's
// config.json fields in camelCase (huggingface-llama.ts maps them); the ones
// the three architectures differ in are settings, not subclasses:
//   Llama    nKvHead <= nHead (grouped-query attention), untied or tied head
//   Mistral  slidingWindow: each query sees only the last `slidingWindow` keys
//   Qwen2    qkvBias: biases on q_proj, k_proj and v_proj (not o_proj)
import { TxError } from '@tx/core';

/** A Llama-family decoder: pre-norm RMSNorm, RoPE, grouped-query attention and a SiLU-gated MLP. */
export interface LlamaConfig {
  /** Number of token ids (HF: vocab_size). */
  vocabSize: number;
  /** Context length: the longest sequence (HF: max_position_embeddings). */
  blockSize: number;
  /** Decoder layers (HF: num_hidden_layers). */
  nLayer: number;
  /** Query heads (HF: num_attention_heads). */
  nHead: number;
  /** Key/value heads, dividing nHead (HF: num_key_value_heads; nHead for plain multi-head attention). */
  nKvHead: number;
  /** Width (HF: hidden_size). */
  nEmbd: number;
  /** Channels per head, even (HF: head_dim; usually nEmbd / nHead). */
  headDim: number;
  /** The gated MLP's inner width (HF: intermediate_size), any positive integer. */
  intermediateSize: number;
  /** RMSNorm's epsilon (HF: rms_norm_eps). */
  rmsNormEps: number;
  /** RoPE's frequency base (HF: rope_theta). */
  ropeTheta: number;
  /** Biases on q_proj, k_proj and v_proj (Qwen2; Llama's attention_bias also puts one on o_proj: see oBias). */
  qkvBias: boolean;
  /** A bias on o_proj (Llama's attention_bias). */
  oBias: boolean;
  /** Mistral's sliding window: a query sees keys j > i - slidingWindow. Null: the whole causal context. */
  slidingWindow: number | null;
  /** The output layer is the token embedding (HF: tie_word_embeddings). */
  tieWordEmbeddings: boolean;
}

/** llama-mini, the Llama-family twin of nanoGPT's CPU configuration (W1): 4 layers, 128 wide, 4 heads, 2 KV heads, context 64. */
export const llamaMini: LlamaConfig = {
  vocabSize: 65,
  blockSize: 64,
  nLayer: 4,
  nHead: 4,
  nKvHead: 2,
  nEmbd: 128,
  headDim: 32,
  // Llama's 8/3 x width, rounded to a multiple of 8: the gated MLP's three
  // matrices then hold about as many weights as W1's two 4 x width ones.
  intermediateSize: 344,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  qkvBias: false,
  oBias: false,
  slidingWindow: null,
  tieWordEmbeddings: true,
};

/** How many parameters a Llama-family model with this config has, without building it. */
export function llamaParameters(c: LlamaConfig): number {
  const q = c.nHead * c.headDim;
  const kv = c.nKvHead * c.headDim;
  const attention = c.nEmbd * (q + 2 * kv) + q * c.nEmbd + (c.qkvBias ? q + 2 * kv : 0) + (c.oBias ? c.nEmbd : 0);
  const mlp = 3 * c.nEmbd * c.intermediateSize;
  const layer = attention + mlp + 2 * c.nEmbd; // two RMSNorm gains
  return c.vocabSize * c.nEmbd * (c.tieWordEmbeddings ? 1 : 2) + c.nLayer * layer + c.nEmbd;
}

/** Throw a TxError naming every bad field. */
export function checkLlamaConfig(config: LlamaConfig): void {
  const c = config as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'headDim', 'intermediateSize']) {
    if (!(Number.isInteger(c[k]) && (c[k] as number) >= 1)) problems.push(`${k} must be a positive integer, got ${JSON.stringify(c[k])}`);
  }
  if (!(typeof c.rmsNormEps === 'number' && c.rmsNormEps > 0 && c.rmsNormEps < 1)) problems.push(`rmsNormEps must be a number in (0, 1), got ${JSON.stringify(c.rmsNormEps)}`);
  if (!(typeof c.ropeTheta === 'number' && c.ropeTheta > 1 && Number.isFinite(c.ropeTheta))) problems.push(`ropeTheta must be a finite number > 1, got ${JSON.stringify(c.ropeTheta)}`);
  for (const k of ['qkvBias', 'oBias', 'tieWordEmbeddings']) if (typeof c[k] !== 'boolean') problems.push(`${k} must be true or false, got ${JSON.stringify(c[k])}`);
  if (!(c.slidingWindow === null || (Number.isInteger(c.slidingWindow) && (c.slidingWindow as number) >= 1))) {
    problems.push(`slidingWindow must be a positive integer or null, got ${JSON.stringify(c.slidingWindow)}`);
  }
  if (problems.length === 0 && config.nHead % config.nKvHead !== 0) problems.push(`nHead (${config.nHead}) must be divisible by nKvHead (${config.nKvHead})`);
  if (problems.length === 0 && config.headDim % 2 !== 0) problems.push(`headDim (${config.headDim}) must be even: RoPE rotates channel pairs`);
  if (problems.length > 0) throw new TxError(`bad LlamaConfig: ${problems.join('; ')}`);
}
