// Read in this order: layers (embedding, norm, feed-forward, block), models
// (config, gpt, encoder-decoder, encoder, spec), decoding (session, conditioned, greedy).
export { Embedding, SinusoidalInput } from './layers/embedding.js';
export type { EmbeddingOptions } from './layers/embedding.js';
export { LayerNorm, layerNorm } from './layers/norm.js';
export type { LayerNormOptions } from './layers/norm.js';
export { RMSNorm } from './layers/rmsnorm.js';
export type { RMSNormOptions } from './layers/rmsnorm.js';
export { FeedForward, gelu, geluTanh } from './layers/feedforward.js';
export type { FeedForwardOptions } from './layers/feedforward.js';
export { Block } from './layers/block.js';
export { GatedMLP, silu } from './layers/gated-mlp.js';
export type { GatedMLPOptions } from './layers/gated-mlp.js';
export { GroupedQueryAttention } from './layers/grouped-attention.js';
export type { GroupedQueryAttentionCall, GroupedQueryAttentionOptions } from './layers/grouped-attention.js';
export type { BlockCall, BlockOptions, BlockOutput } from './layers/block.js';

export { presets, gptConfigFromNanoGPT, seq2seqConfig, encoderConfig, checkGPTConfig, checkEncoderDecoderConfig, checkEncoderConfig } from './models/config.js';
export type { Activation, GPTConfig, EncoderDecoderConfig, EncoderConfig, NanoGPTModelArgs, PresetName, TransformerConfig } from './models/config.js';
export { GPT } from './models/gpt.js';
export type { GPTOptions, GPTForwardOptions, GPTOutput, LayerQKV } from './models/gpt.js';
export { Llama, LlamaDecoderLayer } from './models/llama.js';
export { checkLlamaConfig, llamaMini, llamaParameters } from './models/llama-config.js';
export type { LlamaConfig } from './models/llama-config.js';
export { EncoderDecoderTransformer } from './models/encoder-decoder.js';
export type { EncoderDecoderCache, EncoderDecoderCall, EncoderDecoderOutput } from './models/encoder-decoder.js';
export { Encoder } from './models/encoder.js';
export type { EncoderCall, EncoderOutput } from './models/encoder.js';
export { buildModel, modelVocabSize, parseModelSpec } from './models/spec.js';
export type { AnyModel, ModelSpec, Seq2SeqSpecials } from './models/spec.js';
export { estimateGPTMemory, estimateLlamaMemory, estimateEncoderDecoderMemory, estimateEncoderMemory, estimateMemory, gptParameters, encoderDecoderParameters, encoderParameters } from './models/memory.js';
export type { MemoryEstimate, MemoryUse } from './models/memory.js';

export { GPTSession } from './decoding/session.js';
export type { SessionModel } from './decoding/session.js';
export type { ConditionedModel } from './decoding/conditioned.js';
export { greedyTranslate } from './decoding/greedy.js';
export { checkIds } from './decoding/ids.js';
export { LLAMA_ARCHITECTURES, huggingFaceConfigFromLlama, isLlamaFamily, llamaConfigFromHuggingFace } from './models/huggingface-llama.js';
export { gptConfigFromHuggingFace, gptStateDictFromHuggingFace, huggingFaceFromGPT } from './models/huggingface.js';
