// Token ids are checked where they enter a model from outside (a decoding
// session's feed, a dataset, a CLI flag): in JavaScript, on the host, once.
// The models themselves take int32 tensors and read nothing back.
import { ValueError } from '@tx/core';

/** Throw a ValueError naming the first id that is not an integer in [0, size), and its index. */
export function checkIds(ids: ArrayLike<number>, size: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < size)) throw new ValueError(`${what}: token id ${id} at index ${i} is out of range [0, ${size})`);
  }
}
