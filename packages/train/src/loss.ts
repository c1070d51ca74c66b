// Cross-entropy from logits, as torch.nn.functional.cross_entropy computes it:
//
//   loss_i = -sum_c q_ic * log_softmax(logits_i)_c,  q_i = (1 - eps) * onehot(t_i) + eps / V
//   loss   = sum over non-ignored i of loss_i / (number of non-ignored i)
//
// log_softmax is computed stably (subtract the row max). The gradient is
// written by hand, (softmax - q) * keep / count, which is both exact and far
// cheaper than differentiating through the log-softmax graph. Targets become
// one-hot rows rather than being gathered: tf.gather has no gradient on wasm.
import { ShapeError, formatShape, fusedCrossEntropy, tf } from '@tx/core';

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
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);

  return tf.tidy(() => {
    const flatLogits = tf.reshape(logits, [-1, vocab]) as tf.Tensor2D;
    const flatTargets = tf.reshape(targets, [-1]) as tf.Tensor1D;
    // On wasm, one fused kernel each way, with no [N, V] target tensor (@tx/core); elsewhere the ops below.
    const fused = fusedCrossEntropy(flatLogits, flatTargets, { ignoreIndex, labelSmoothing });
    if (fused) return fused;
    // keep: 1 where the target counts, 0 where it is ignored; ignored ids become class 0 (then masked).
    const keep = ignoreIndex === undefined ? tf.onesLike(flatTargets).toFloat() : tf.notEqual(flatTargets, ignoreIndex).toFloat();
    const safeTargets = ignoreIndex === undefined ? flatTargets : tf.where(tf.cast(keep, 'bool'), flatTargets, tf.zerosLike(flatTargets));
    const q = tf.add(tf.mul(tf.oneHot(safeTargets, vocab).toFloat(), 1 - labelSmoothing), labelSmoothing / vocab);
    const count = tf.maximum(tf.sum(keep), 1);
    return lossWithGrad(flatLogits, q, keep, count);
  });
}

// logits: [N, V], q: [N, V] target distribution, keep: [N], count: scalar.
const lossWithGrad = tf.customGrad(((logits: tf.Tensor, q: tf.Tensor, keep: tf.Tensor, count: tf.Tensor, save: tf.GradSaveFunc) => {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  const logSumExp = tf.log(tf.sum(tf.exp(shifted), -1, true));
  const logProbs = tf.sub(shifted, logSumExp);
  const perRow = tf.neg(tf.sum(tf.mul(q, logProbs), -1));
  const value = tf.div(tf.sum(tf.mul(perRow, keep)), count);
  save([logProbs, q, keep, count]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [lp, sq, sk, sc] = saved;
      const weight = tf.div(tf.reshape(sk, [-1, 1]), sc);
      const dLogits = tf.mul(tf.mul(tf.sub(tf.exp(lp), sq), weight), dy);
      return [dLogits, tf.zerosLike(sq), tf.zerosLike(sk), tf.zerosLike(sc)];
    },
  };
}) as Parameters<typeof tf.customGrad>[0]) as unknown as (logits: tf.Tensor, q: tf.Tensor, keep: tf.Tensor, count: tf.Tensor) => tf.Scalar;
