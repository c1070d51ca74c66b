// The training losses of the two kinds of model, from a batch of ids:
//   languageModelLoss  next-token cross-entropy of a decoder-only model (nanoGPT's)
//   seq2seqLoss        cross-entropy of the target given the source, padding
//                      ignored, with label smoothing (the paper uses 0.1)
// Typed by what they call, so any model with the same forward fits.
import { tf } from '@tx/core';
import type { Batch, Seq2SeqBatch } from './data.js';
import { crossEntropy } from './loss.js';

export interface LanguageModelLike {
  // ids: int32 [B, T] -> logits [B, T, V]
  forward(ids: tf.Tensor): { logits: tf.Tensor };
}

export interface Seq2SeqModelLike {
  // src: int32 [B, S], tgt: int32 [B, T] -> logits [B, T, V]
  forward(src: tf.Tensor, tgt: tf.Tensor, options: { srcPaddingMask?: tf.Tensor }): { logits: tf.Tensor };
}

export function languageModelLoss(model: LanguageModelLike, { x, y, batchSize: B, blockSize: T }: Batch): tf.Scalar {
  return tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(x, [B, T], 'int32')).logits, tf.tensor2d(y, [B, T], 'int32')));
}

export function seq2seqLoss(model: Seq2SeqModelLike, b: Seq2SeqBatch, { padId, labelSmoothing = 0.1 }: { padId: number; labelSmoothing?: number }): tf.Scalar {
  return tf.tidy(() => {
    const src = tf.tensor2d(b.src, [b.batchSize, b.srcLength], 'int32');
    const tgt = tf.tensor2d(b.tgtIn, [b.batchSize, b.tgtLength], 'int32');
    const { logits } = model.forward(src, tgt, { srcPaddingMask: tf.equal(src, padId) });
    return crossEntropy(logits, tf.tensor2d(b.tgtOut, [b.batchSize, b.tgtLength], 'int32'), { ignoreIndex: padId, labelSmoothing });
  });
}
