export { scaledDotProductAttention, attend, repeatHeads } from './sdpa.js';
export type { AttentionOptions, AttentionResult } from './sdpa.js';
export { BLOCKED, scoreBias } from './masks.js';
export type { MaskOptions, ScoreBias } from './masks.js';
export { MultiHeadAttention } from './mha.js';
export type { MultiHeadAttentionCall, MultiHeadAttentionConfig, MultiHeadAttentionOutput, PositionRotation } from './mha.js';
export { KVCache } from './cache.js';
export type { KVCacheOptions } from './cache.js';
