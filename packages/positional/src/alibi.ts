// ALiBi (Press et al. 2022, "Train Short, Test Long"): no position vectors at
// all; each head adds -slope_h * distance(query, key) to its attention scores.
//
// Slopes: for n a power of two, the geometric sequence 2^(-8/n), 2^(-16/n), ...,
// 2^(-8). Otherwise, as the authors' code does, the slopes of the closest
// smaller power of two p, followed by every other slope of 2p.
import { ShapeError, tf } from '@tx/core';

/** ALiBi's slope of each head (Press et al. 2021): a geometric sequence, with the paper's rule for head counts that are not powers of two. */
export function alibiSlopes(nHead: number): number[] {
  if (!Number.isInteger(nHead) || nHead < 1) throw new ShapeError(`alibiSlopes: nHead must be a positive integer, found ${nHead}`);
  const powerOfTwo = (n: number) => {
    const start = Math.pow(2, -8 / n);
    return Array.from({ length: n }, (_, i) => Math.pow(start, i + 1));
  };
  if (Number.isInteger(Math.log2(nHead))) return powerOfTwo(nHead);
  const p = Math.pow(2, Math.floor(Math.log2(nHead)));
  return [...powerOfTwo(p), ...powerOfTwo(2 * p).filter((_, i) => i % 2 === 0).slice(0, nHead - p)];
}

/** Options of alibiBias: where the queries start (with a KV cache). */
export interface AlibiBiasOptions {
  /** Position of the first query (with a KV cache: the number of cached tokens). Default: kLen - qLen, queries are the last positions. */
  queryOffset?: number;
}

/**
 * The additive bias [nHead, qLen, kLen]: bias[h, i, j] = -slope_h * |(queryOffset + i) - j|.
 * Add it to the scores (it broadcasts over the batch); causal masking is separate.
 */
export function alibiBias(nHead: number, qLen: number, kLen: number, { queryOffset }: AlibiBiasOptions = {}): tf.Tensor3D {
  const offset = queryOffset ?? kLen - qLen;
  const slopes = alibiSlopes(nHead);
  const out = new Float32Array(nHead * qLen * kLen);
  for (let h = 0; h < nHead; h++)
    for (let i = 0; i < qLen; i++)
      for (let j = 0; j < kLen; j++) out[(h * qLen + i) * kLen + j] = -slopes[h] * Math.abs(offset + i - j);
  return tf.tensor3d(out, [nHead, qLen, kLen]);
}
