// The keys and values of every layer for the positions seen so far, so that a
// decoding step only computes its new positions.
import { tf } from '@tx/core';
import type { KVEntry } from './attention.js';

export class KVCache {
  private entries: KVEntry[] = [];

  /** Positions held. */
  get length(): number {
    return this.entries[0]?.k.shape[2] ?? 0;
  }

  get batchSize(): number {
    return this.entries[0]?.k.shape[0] ?? 0;
  }

  /** Layer i's keys and values, [B, h, length, d] each (undefined while empty). */
  layer(i: number): KVEntry | undefined {
    return this.entries[i];
  }

  /** Take ownership of the layers' new keys and values (which include the old ones) and free the old. */
  replace(kvs: KVEntry[]): void {
    const old = this.entries;
    this.entries = kvs.map(({ k, v }) => ({ k: tf.keep(k), v: tf.keep(v) }));
    for (const { k, v } of old) tf.dispose([k, v]);
  }

  /** Keep only the newest `n` positions (a sliding window). */
  keepLast(n: number): void {
    if (n >= this.length) return;
    if (n <= 0) return this.clear();
    const start = this.length - n;
    const cut = (t: tf.Tensor4D) => tf.slice(t, [0, 0, start, 0], [-1, -1, n, -1]);
    this.replace(tf.tidy(() => this.entries.map(({ k, v }) => ({ k: cut(k), v: cut(v) }))));
  }

  /** An independent copy (for beam search). */
  clone(): KVCache {
    const copy = new KVCache();
    copy.entries = this.entries.map(({ k, v }) => ({ k: tf.keep(tf.clone(k)), v: tf.keep(tf.clone(v)) }));
    return copy;
  }

  clear(): void {
    this.replace([]);
  }

  dispose(): void {
    this.clear();
  }
}
