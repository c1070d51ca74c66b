export { scaledDotProductAttention, repeatHeads } from './sdpa.js';
export type { AttentionOptions, AttentionResult } from './sdpa.js';
export { BLOCKED, causalMask, scoreBias } from './masks.js';
export type { MaskOptions, ScoreBias } from './masks.js';
export { splitHeads, mergeHeads, permute } from './heads.js';
export { MultiHeadAttention, SelfAttention, CrossAttention } from './attention.js';
export type { AttentionCall, AttentionConfig, AttentionOutput, PositionRotation } from './attention.js';
export { KVCache } from './cache.js';
