// Embedding: a lookup table of vectors, one row per token id (nanoGPT's wte).
//
// The forward pass is a gather. Its gradient is not tfjs's: that one needs
// UnsortedSegmentSum, which the wasm backend lacks (docs/performance.md §3). Ours scatters
// with a one-hot matrix product, dW = onehot(ids)ᵀ · dy, an explicit
// transpose then a plain 2-D matMul, which every backend runs (fast on wasm).
import { Module, ShapeError, formatShape, randomNormal, tf } from '@tx/core';
import type { Rng } from '@tx/core';
import { sinusoidalEncoding } from '@tx/positional';

/** How an Embedding's table is initialised. */
export interface EmbeddingOptions {
  rng: Rng;
  /** Std of the normal initialisation (default 0.02, as nanoGPT). */
  std?: number;
}

/** A lookup table of vectors, one row per token id (nanoGPT's wte), with a gradient that runs on every backend. */
export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim], the same layout as PyTorch's nn.Embedding. */
  readonly weight: tf.Variable;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { rng, std = 0.02 }: EmbeddingOptions,
  ) {
    super();
    this.weight = this.param('weight', randomNormal([numEmbeddings, embeddingDim], rng, { std }));
  }

  // ids: int32 [...] -> [..., embeddingDim]. Ids are checked where they enter (tokenizer, dataset, decoding session).
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new ShapeError(`Embedding: ids must be int32, found ${ids.dtype}`);
    return tf.tidy(() => tf.reshape(embeddingLookup(this.weight, tf.reshape(ids, [-1])), [...ids.shape, this.embeddingDim]));
  }
}

/** weight: [V, C], ids: [N] int32 -> [N, C]; gradient for weight only, through a one-hot matMul. */
function embeddingLookup(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  if (weight.rank !== 2 || ids.rank !== 1) {
    throw new ShapeError(`embeddingLookup: expected weight [V, C] and ids [N], found ${formatShape(weight.shape)} and ${formatShape(ids.shape)}`);
  }
  const vocab = weight.shape[0];
  // The ids are saved (kept alive for the backward pass), not closed over:
  // the caller's tidy may dispose them before gradients are taken.
  const lookup = tf.customGrad(((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(w, ids),
      gradFunc: (dy: tf.Tensor, [savedIds]: tf.Tensor[]) => {
        const oneHotT = tf.transpose(tf.oneHot(savedIds, vocab).toFloat()); // [V, N]
        return tf.matMul(oneHotT as tf.Tensor2D, dy as tf.Tensor2D);
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return lookup(weight);
}

/**
 * The paper's input (§3.4, §3.5): token vectors scaled by √dModel plus the
 * sinusoidal encoding of their positions, made once for blockSize positions.
 * Not a parameter; dispose() frees the table.
 */
export class SinusoidalInput {
  private readonly table: tf.Tensor2D;

  constructor(readonly blockSize: number, readonly dModel: number) {
    this.table = tf.keep(sinusoidalEncoding(blockSize, dModel));
  }

  // tokens: [B, T, dModel] at positions offset .. offset + T - 1 -> [B, T, dModel]
  forward(tokens: tf.Tensor, offset = 0): tf.Tensor {
    const T = tokens.shape[1]!;
    return tf.tidy(() => tf.add(tf.mul(tokens, Math.sqrt(this.dModel)), tf.slice(this.table, [offset, 0], [T, this.dModel])));
  }

  dispose(): void {
    this.table.dispose();
  }
}
