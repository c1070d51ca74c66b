// The Llama family as Hugging Face stores it (config.json of a
// LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM), to and from our
// LlamaConfig. The weights need no mapping: Llama's parameters carry HF's
// names and nn.Linear's [out, in] layout, so a state dict loads as it is.
//
// What each architecture sets (transformers v4.46 configuration_*.py and modeling_*.py):
//   llama    attention_bias: a bias on q, k, v and o_proj; mlp_bias; head_dim (default hidden / heads)
//   mistral  sliding_window (null: none); no biases
//   qwen2    q, k, v biases always, o_proj none; sliding_window only with use_sliding_window
// Anything the decoder does not implement (a rope_scaling, another
// activation, mlp_bias) is one error naming the field, not a wrong model.
import { TxError } from '@tx/core';
import { checkLlamaConfig, type LlamaConfig } from './llama-config.js';

/** The architectures tx reads, by config.json's model_type. */
export const LLAMA_ARCHITECTURES: Readonly<Record<string, string>> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' };

/** Whether a parsed config.json describes a Llama-family model (by model_type or architectures). */
export function isLlamaFamily(raw: unknown): boolean {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const architectures = Array.isArray(c.architectures) ? c.architectures : [];
  return Object.hasOwn(LLAMA_ARCHITECTURES, String(c.model_type)) || architectures.some((a) => Object.values(LLAMA_ARCHITECTURES).includes(a as string));
}

/** A LlamaConfig from a Llama, Mistral or Qwen2 config.json; anything we cannot run is one error naming the field. */
export function llamaConfigFromHuggingFace(raw: unknown, where = 'config.json'): LlamaConfig {
  const c = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new TxError(`${where}: ${message}`);
  };
  const architectures = Array.isArray(c.architectures) ? c.architectures : [];
  const type = Object.hasOwn(LLAMA_ARCHITECTURES, String(c.model_type))
    ? String(c.model_type)
    : Object.keys(LLAMA_ARCHITECTURES).find((k) => architectures.includes(LLAMA_ARCHITECTURES[k]));
  if (!type) fail(`unsupported architecture ${JSON.stringify(architectures[0] ?? c.model_type)} (model_type ${JSON.stringify(c.model_type)}): tx imports LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM`);
  const int = (field: string): number => {
    const v = c[field];
    if (!(Number.isInteger(v) && (v as number) >= 1)) fail(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  if ((c.hidden_act ?? 'silu') !== 'silu') fail(`hidden_act ${JSON.stringify(c.hidden_act)} is not supported (the gated MLP is "silu")`);
  if (c.rope_scaling !== undefined && c.rope_scaling !== null) {
    const kind = (c.rope_scaling as Record<string, unknown>).rope_type ?? (c.rope_scaling as Record<string, unknown>).type;
    fail(`rope_scaling ${JSON.stringify(kind ?? c.rope_scaling)} is not implemented: tx's RoPE is the plain rotation (rope_scaling null); this model would be silently wrong past its original context`);
  }
  if (c.mlp_bias === true) fail('mlp_bias true is not supported (the gated MLP has no biases)');
  if (c.pretraining_tp !== undefined && c.pretraining_tp !== 1) fail(`pretraining_tp ${JSON.stringify(c.pretraining_tp)} is not supported (only 1)`);
  const nEmbd = int('hidden_size');
  const nHead = int('num_attention_heads');
  const nKvHead = c.num_key_value_heads === undefined || c.num_key_value_heads === null ? nHead : int('num_key_value_heads');
  if (nHead % nKvHead !== 0) fail(`num_attention_heads (${nHead}) is not divisible by num_key_value_heads (${nKvHead}): each KV head must serve the same number of query heads`);
  let headDim: number;
  if (c.head_dim === undefined || c.head_dim === null) {
    if (nEmbd % nHead !== 0) fail(`hidden_size (${nEmbd}) is not divisible by num_attention_heads (${nHead}) and there is no head_dim`);
    headDim = nEmbd / nHead;
  } else {
    headDim = int('head_dim');
    if (headDim % 2 !== 0) fail(`head_dim ${headDim} is odd: RoPE rotates pairs of channels`);
  }
  const sliding = type === 'mistral' || (type === 'qwen2' && c.use_sliding_window === true);
  if (type === 'qwen2' && c.use_sliding_window === true) fail('use_sliding_window true is not supported for Qwen2 (its window applies to some layers only, max_window_layers)');
  const slidingWindow = sliding && c.sliding_window !== undefined && c.sliding_window !== null ? int('sliding_window') : null;
  const attentionBias = type === 'llama' && c.attention_bias === true;
  const config: LlamaConfig = {
    vocabSize: int('vocab_size'),
    blockSize: int('max_position_embeddings'),
    nLayer: int('num_hidden_layers'),
    nHead,
    nKvHead,
    nEmbd,
    headDim,
    intermediateSize: int('intermediate_size'),
    rmsNormEps: (c.rms_norm_eps as number | undefined) ?? 1e-6,
    ropeTheta: (c.rope_theta as number | undefined) ?? 10000,
    qkvBias: type === 'qwen2' || attentionBias,
    oBias: attentionBias,
    slidingWindow,
    // transformers' LlamaConfig, MistralConfig and Qwen2Config all default to an untied head.
    tieWordEmbeddings: (c.tie_word_embeddings as boolean | undefined) ?? false,
  };
  try {
    checkLlamaConfig(config);
  } catch (err) {
    fail((err as Error).message);
  }
  return config;
}

/**
 * config.json for a LlamaConfig, as save_pretrained writes it: `base` (the
 * imported config.json, kept as it was) with the model's fields set from the
 * config; without a base, a LlamaForCausalLM (or Mistral, with a sliding
 * window; or Qwen2, with q/k/v biases and no o_proj bias) in float32.
 */
export function huggingFaceConfigFromLlama(c: LlamaConfig, base?: Record<string, unknown>): Record<string, unknown> {
  const type = base && Object.hasOwn(LLAMA_ARCHITECTURES, String(base.model_type)) ? String(base.model_type) : c.slidingWindow !== null ? 'mistral' : c.qkvBias && !c.oBias ? 'qwen2' : 'llama';
  const fields: Record<string, unknown> = {
    architectures: [LLAMA_ARCHITECTURES[type]],
    model_type: type,
    vocab_size: c.vocabSize,
    hidden_size: c.nEmbd,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.nLayer,
    num_attention_heads: c.nHead,
    num_key_value_heads: c.nKvHead,
    head_dim: c.headDim,
    max_position_embeddings: c.blockSize,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    hidden_act: 'silu',
    tie_word_embeddings: c.tieWordEmbeddings,
    ...(type === 'llama' ? { attention_bias: c.oBias, mlp_bias: false } : {}),
    ...(type === 'mistral' ? { sliding_window: c.slidingWindow } : {}),
  };
  if (base) return { ...base, ...Object.fromEntries(Object.entries(fields).filter(([k]) => k in base)) };
  return { ...fields, torch_dtype: 'float32' };
}
