// The training losses of the three kinds of model, from a batch of ids:
//   languageModelLoss  next-token cross-entropy of a decoder-only model (nanoGPT's)
//   seq2seqLoss        cross-entropy of the target given the source, padding
//                      ignored, with label smoothing (the paper uses 0.1)
//   pointerLoss        cross-entropy over positions of an encoder's pointer
//                      against the target position (the coref task: which
//                      word "it" refers to), padding never a candidate
// Typed by what they call, so any model with the same forward fits.
import { tf } from '@tx/core';
import type { Batch, PointerBatch, Seq2SeqBatch } from './data.js';
import { crossEntropy } from './loss.js';

/** What languageModelLoss needs of a model: ids in, logits out. */
export interface LanguageModelLike {
  // ids: int32 [B, T] -> logits [B, T, V]
  forward(ids: tf.Tensor): { logits: tf.Tensor };
}

/** What seq2seqLoss needs of a model: source and target ids in, logits out. */
export interface Seq2SeqModelLike {
  // src: int32 [B, S], tgt: int32 [B, T] -> logits [B, T, V]
  forward(src: tf.Tensor, tgt: tf.Tensor, options: { srcPaddingMask?: tf.Tensor }): { logits: tf.Tensor };
}

/** What pointerLoss needs of a model: ids, query positions and padding in, the pointer's logits out. */
export interface PointerModelLike {
  // ids: int32 [B, T], query: int32 [B], paddingMask: bool [B, T] -> pointer logits [B, T]
  forward(ids: tf.Tensor, call: { query: tf.Tensor; paddingMask: tf.Tensor }): { pointer?: tf.Tensor };
}

/** The mean next-token cross-entropy of a model on a Batch. */
export function languageModelLoss(model: LanguageModelLike, { x, y, batchSize: B, blockSize: T }: Batch): tf.Scalar {
  return tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(x, [B, T], 'int32')).logits, tf.tensor2d(y, [B, T], 'int32')));
}

/** The mean cross-entropy of an encoder-decoder on a Seq2SeqBatch, padding ignored, with label smoothing (default 0.1). */
export function seq2seqLoss(model: Seq2SeqModelLike, b: Seq2SeqBatch, { padId, labelSmoothing = 0.1 }: { padId: number; labelSmoothing?: number }): tf.Scalar {
  return tf.tidy(() => {
    const src = tf.tensor2d(b.src, [b.batchSize, b.srcLength], 'int32');
    const tgt = tf.tensor2d(b.tgtIn, [b.batchSize, b.tgtLength], 'int32');
    const { logits } = model.forward(src, tgt, { srcPaddingMask: tf.equal(src, padId) });
    return crossEntropy(logits, tf.tensor2d(b.tgtOut, [b.batchSize, b.tgtLength], 'int32'), { ignoreIndex: padId, labelSmoothing });
  });
}

/**
 * loss = mean over the batch of -log softmax(pointer)_target, the pointer's
 * logits over the positions of each sequence (padding is masked out by the
 * model). Its gradient on the logits is (softmax - onehot(target)) / B.
 */
export function pointerLoss(model: PointerModelLike, b: PointerBatch): tf.Scalar {
  return tf.tidy(() => {
    const { ids, options } = pointerInputs(b);
    const { pointer } = model.forward(ids, options);
    if (!pointer) throw new TypeError('pointerLoss: the model returned no pointer logits for the query');
    return crossEntropy(pointer, tf.tensor1d(b.target, 'int32'));
  });
}

/** A pointer batch as the model's inputs: ids [B, T], and the query positions [B] and padding mask [B, T]. Call inside tf.tidy. */
export function pointerInputs(b: PointerBatch): { ids: tf.Tensor2D; options: { query: tf.Tensor1D; paddingMask: tf.Tensor } } {
  const ids = tf.tensor2d(b.ids, [b.batchSize, b.length], 'int32');
  const paddingMask = tf.cast(tf.tensor2d(b.pad, [b.batchSize, b.length], 'int32'), 'bool');
  return { ids, options: { query: tf.tensor1d(b.query, 'int32'), paddingMask } };
}
