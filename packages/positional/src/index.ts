export { sinusoidalEncoding, sinusoidalFrequency, sinusoidalTable } from './sinusoidal.js';
export { LearnedPositionalEmbedding } from './learned.js';
export type { LearnedPositionalEmbeddingOptions } from './learned.js';
export { RotaryEmbedding } from './rotary.js';
export type { RotaryEmbeddingOptions } from './rotary.js';
export { alibiBias, alibiSlopes } from './alibi.js';
export type { AlibiBiasOptions } from './alibi.js';
