// Heads: the model width C is h heads of d = C / h channels each.
//   splitHeads  [B, T, h·d] -> [B, h, T, d]
//   mergeHeads  [B, h, T, d] -> [B, T, h·d]   (Concat(head_1, ..., head_h))
import { tf } from '@tx/core';

/** [B, T, C] to [B, h, T, C/h]: the channels split into h heads. */
export function splitHeads(x: tf.Tensor, h: number): tf.Tensor {
  const [B, T, C] = x.shape;
  return permute(tf.reshape(x, [B, T, h, C / h]), [0, 2, 1, 3]);
}

/** [B, h, T, d] to [B, T, h·d]: the heads' outputs side by side (the inverse of splitHeads). */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, h, T, d] = x.shape;
  return tf.reshape(permute(x, [0, 2, 1, 3]), [B, T, h * d]);
}

/**
 * tf.transpose, except that when the permutation only moves axes of size 1
 * (decoding one token at batch 1: [1, 1, h, d] -> [1, h, 1, d]) the data order
 * does not change and a free reshape does the job, saving a kernel per call.
 */
export function permute(t: tf.Tensor, perm: number[]): tf.Tensor {
  const order = perm.filter((axis) => t.shape[axis] !== 1);
  const unchanged = order.every((axis, i) => i === 0 || axis > order[i - 1]);
  return unchanged ? tf.reshape(t, perm.map((axis) => t.shape[axis])) : tf.transpose(t, perm);
}
