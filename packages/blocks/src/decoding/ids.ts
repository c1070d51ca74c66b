// Token ids in: a tf int32 tensor or plain arrays, checked against the vocabulary.
import { ShapeError, tf } from '@tx/core';

/** Token ids: a tensor (int32, or float holding integers) or nested arrays of numbers. */
export type TokenIds = tf.Tensor | number[] | number[][];

/** ids as an int32 tensor (a new one the caller owns when `ids` is not already int32). */
export function toIdTensor(ids: TokenIds): tf.Tensor {
  if (ids instanceof tf.Tensor) return ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
  return tf.tensor(ids as number[], undefined, 'int32');
}

/**
 * Throw a ShapeError naming the first id that is not an integer in [0, size),
 * and its position ("id 70 at [1, 5]"). Arrays are checked in JavaScript.
 * A tensor is read back only on backends that keep data in host memory (cpu,
 * wasm): on webgpu and webgl a synchronous read would stall the device (and
 * cannot work in Node), so there pass arrays to have ids checked.
 */
export function checkIds(ids: TokenIds, size: number, what: string): void {
  let values: ArrayLike<number>;
  let shape: readonly number[];
  if (ids instanceof tf.Tensor) {
    if (!['cpu', 'wasm'].includes(tf.getBackend())) return;
    values = ids.dataSync();
    shape = ids.shape;
  } else {
    const nested = Array.isArray(ids[0]);
    values = nested ? (ids as number[][]).flat() : (ids as number[]);
    shape = nested ? [ids.length, (ids as number[][])[0].length] : [ids.length];
  }
  for (let i = 0; i < values.length; i++) {
    const id = values[i];
    if (Number.isInteger(id) && id >= 0 && id < size) continue;
    throw new ShapeError(`${what}: token id ${id} at ${formatIndex(i, shape)} is out of range [0, ${size})`);
  }
}

function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${index.join(', ')}]`;
}
