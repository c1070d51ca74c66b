// Learned absolute positions: one trainable vector per position, GPT-2's and
// nanoGPT's `wpe` (an nn.Embedding(block_size, n_embd) whose weight is [blockSize, dModel]).
import { Module, ShapeError, randomNormal, tf, type Rng } from '@tx/core';

/** How a LearnedPositionalEmbedding's table is initialised. */
export interface LearnedPositionalEmbeddingOptions {
  /** Seeded RNG for the initial table. */
  rng: Rng;
  /** Std of the normal initialisation (default 0.02, as nanoGPT). */
  std?: number;
}

/** One learned vector per position, added to the token embeddings (GPT-2's and nanoGPT's wpe). */
export class LearnedPositionalEmbedding extends Module {
  /** [blockSize, dModel], saved as "weight" (nanoGPT: transformer.wpe.weight). */
  readonly weight: tf.Variable;

  constructor(
    /** The context length: one learned vector per position. */
    readonly blockSize: number,
    readonly dModel: number,
    { rng, std = 0.02 }: LearnedPositionalEmbeddingOptions,
  ) {
    super();
    this.weight = this.param('weight', randomNormal([blockSize, dModel], rng, { std }));
  }

  /**
   * The embeddings of positions offset .. offset + length - 1: [length, dModel].
   * (A slice, not a gather, so its gradient works on every backend.)
   */
  forward(length: number, offset = 0): tf.Tensor2D {
    if (!Number.isInteger(length) || length < 1 || !Number.isInteger(offset) || offset < 0 || offset + length > this.blockSize) {
      throw new ShapeError(
        `LearnedPositionalEmbedding: positions ${offset}..${offset + length - 1} are outside the table of ${this.blockSize} positions (length ${length}, offset ${offset})`,
      );
    }
    return tf.slice(this.weight, [offset, 0], [length, this.dModel]) as tf.Tensor2D;
  }
}
