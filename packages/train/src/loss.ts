// Cross-entropy from logits, as torch.nn.functional.cross_entropy computes it:
//
//   loss_i = -sum_c q_ic * log_softmax(logits_i)_c,  q_i = (1 - eps) * onehot(t_i) + eps / V
//   loss   = sum over non-ignored i of loss_i / (number of non-ignored i)
//
// This file checks the shapes and flattens [..., V] to rows; the math, its
// hand-written gradient and its wasm kernel are @tx/core's crossEntropy op.
import { ShapeError, ValueError, crossEntropy as crossEntropyRows, formatShape, tf } from '@tx/core';

/** Options of crossEntropy: a target id to ignore, and label smoothing. */
export interface CrossEntropyOptions {
  /** Targets equal to this id (padding) add nothing to the loss or the count. Default: none. */
  ignoreIndex?: number;
  /** Label smoothing eps in [0, 1): the target distribution is (1 - eps) one-hot + eps uniform. Default 0. */
  labelSmoothing?: number;
}

/**
 * Mean cross-entropy. logits: [..., V] float32; targets: [...] int32 ids in [0, V)
 * (or ignoreIndex). Returns a scalar; if every target is ignored it is 0.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, options: CrossEntropyOptions = {}): tf.Scalar {
  const { ignoreIndex, labelSmoothing = 0 } = options;
  const vocab = logits.shape[logits.rank - 1];
  if (targets.rank !== logits.rank - 1 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new ShapeError(`crossEntropy: targets of shape ${formatShape(targets.shape)} do not match logits of shape ${formatShape(logits.shape)} (expected ${formatShape(logits.shape.slice(0, -1))})`);
  }
  if (targets.dtype !== 'int32') throw new ShapeError(`crossEntropy: targets must be int32 ids, got ${targets.dtype}`);
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);

  return tf.tidy(() => crossEntropyRows(tf.reshape(logits, [-1, vocab]), tf.reshape(targets, [-1]), { ignoreIndex, labelSmoothing }));
}
