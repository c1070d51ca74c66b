export { sinusoidalEncoding, sinusoidalTable } from './sinusoidal.js';
export { LearnedPositionalEmbedding } from './learned.js';
export type { LearnedPositionalEmbeddingOptions } from './learned.js';
export { RotaryEmbedding, rotaryAngle, rotateVector } from './rotary.js';
export type { RotaryEmbeddingOptions } from './rotary.js';
export { XPosEmbedding } from './xpos.js';
export type { XPosEmbeddingOptions } from './xpos.js';
export { alibiBias, alibiSlopes } from './alibi.js';
export type { AlibiBiasOptions } from './alibi.js';
