// Attention work that stays on the device, so that the page reads back only
// what it draws: a text past the context assembled from its sliding windows
// (only the last query row of each window is kept), the grid's thumbnails
// pooled there, and the loss summed there.
import { tf, tidy } from '@tx/core';

/**
 * Where placeLastRows takes each of the N keys of window b's row from: window b
 * ends at query ends[b] and covers keys ends[b] - T + 1 .. ends[b]; the others
 * point at the zero padded after each row. The same for every layer of a batch.
 */
export function lastRowIndex(ends: readonly number[], T: number, N: number): tf.Tensor1D {
  const index = new Int32Array(ends.length * N);
  ends.forEach((q, b) => {
    const first = q - T + 1;
    for (let c = 0; c < N; c++) index[b * N + c] = b * (T + 1) + (c >= first && c <= q ? c - first : T);
  });
  return tf.tensor1d(index, 'int32');
}

/** Each window's last query row, placed at its keys by lastRowIndex's index. att: [B, H, T, T] -> [H, B, N] */
export function placeLastRows(att: tf.Tensor4D, index: tf.Tensor1D, N: number): tf.Tensor3D {
  const [B, H, , T] = att.shape;
  return tidy(() => {
    const last = tf.transpose(tf.reshape(tf.slice(att, [0, 0, T - 1, 0], [B, H, 1, T]), [B, H, T]), [1, 0, 2]); // [H, B, T]
    // One gather places every row: a zero after each row stands for the keys outside its window.
    const flat = tf.reshape(tf.pad(last, [[0, 0], [0, 0], [0, 1]]), [H, B * (T + 1)]);
    return tf.reshape(tf.gather(flat, index, 1), [H, B, N]) as tf.Tensor3D;
  });
}

/** Max-pool each head's matrix by factor x factor blocks (zeros past the edge), as lib/downsample.ts's downsampleMax. [H, R, C] -> [H, ceil(R/f), ceil(C/f)] */
export function poolMax(att: tf.Tensor3D, factor: number): tf.Tensor3D {
  const [H, R, C] = att.shape;
  const r = Math.ceil(R / factor), c = Math.ceil(C / factor);
  return tidy(() => {
    const padded = r * factor > R || c * factor > C ? tf.pad(att, [[0, 0], [0, r * factor - R], [0, c * factor - C]]) : att;
    const pooled = tf.maxPool(tf.reshape(padded, [H, r * factor, c * factor, 1]) as tf.Tensor4D, [factor, factor], [factor, factor], 'valid');
    return tf.reshape(pooled, [H, r, c]) as tf.Tensor3D;
  });
}

/** −Σ log p(target) over the rows of logits [R, V], one target per row. */
export function nllSum(logits: tf.Tensor2D, targets: readonly number[]): tf.Scalar {
  const V = logits.shape[1];
  return tidy(() => {
    const logp = tf.reshape(tf.logSoftmax(logits), [-1]);
    const at = tf.tensor1d(targets.map((t, i) => i * V + t), 'int32');
    return tf.neg(tf.sum(tf.gather(logp, at))) as tf.Scalar;
  });
}
