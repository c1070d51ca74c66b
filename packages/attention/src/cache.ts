// KVCache: the keys and values of the tokens decoded so far, so that each new
// token costs one position's work instead of recomputing the whole prefix.
//
// Self-attention appends each step's keys and values. With `maxLength`, only
// the last maxLength are kept: past the context length attention becomes a
// sliding window (each query sees itself and the maxLength - 1 keys before it),
// equal to a full recomputation with `window: maxLength`.
// Cross-attention stores the encoder's keys and values once and reuses them.
//
// The cache owns its tensors (they survive tf.tidy); call dispose() when done.
// It is for inference: gradients do not flow through cached steps.
import { ShapeError, formatShape, tf } from '@tx/core';

export interface KVCacheOptions {
  /** Keep at most this many positions (a sliding window); default unbounded. */
  maxLength?: number;
}

export class KVCache {
  /** [B, hk, length, d] after the last update, or null when empty. */
  k: tf.Tensor | null = null;
  v: tf.Tensor | null = null;
  /** Tokens seen so far (absolute position of the next token), which may exceed length. */
  position = 0;
  readonly maxLength: number | null;

  constructor({ maxLength }: KVCacheOptions = {}) {
    if (maxLength != null && !(Number.isInteger(maxLength) && maxLength >= 1)) {
      throw new ShapeError(`KVCache: maxLength must be a positive integer, found ${maxLength}`);
    }
    this.maxLength = maxLength ?? null;
  }

  /** Cached positions: [0, maxLength]. */
  get length(): number {
    return this.k ? (this.k.shape as number[])[2] : 0;
  }

  /**
   * Append k, v ([B, hk, T, d]) and return all keys and values the new queries
   * attend to: the old window followed by the new ones (not yet trimmed, so a
   * chunk longer than one token still sees a full window for every query).
   * Call inside tf.tidy: the returned tensors belong to the caller's scope.
   */
  append(k: tf.Tensor, v: tf.Tensor): { k: tf.Tensor; v: tf.Tensor } {
    if (this.k && ((k.shape as number[])[0] !== (this.k.shape as number[])[0] || (k.shape as number[])[1] !== (this.k.shape as number[])[1] || (k.shape as number[])[3] !== (this.k.shape as number[])[3])) {
      throw new ShapeError(`KVCache: new keys ${formatShape(k.shape)} do not continue the cached ${formatShape(this.k.shape)}`);
    }
    const fullK = this.k ? tf.concat([this.k, k], 2) : k;
    const fullV = this.v ? tf.concat([this.v, v], 2) : v;
    this.store(fullK, fullV);
    this.position += (k.shape as number[])[2];
    return { k: fullK, v: fullV };
  }

  /** Replace the contents (cross-attention: the encoder's keys and values). */
  set(k: tf.Tensor, v: tf.Tensor): void {
    this.store(k, v);
    this.position = (k.shape as number[])[2];
  }

  /** An independent copy (for beam search). */
  clone(): KVCache {
    const copy = new KVCache({ maxLength: this.maxLength ?? undefined });
    if (this.k) {
      copy.k = tf.keep(tf.clone(this.k));
      copy.v = tf.keep(tf.clone(this.v!));
    }
    copy.position = this.position;
    return copy;
  }

  /** Forget everything and free the tensors. */
  dispose(): void {
    if (this.k) tf.dispose([this.k, this.v!]);
    this.k = this.v = null;
    this.position = 0;
  }

  private store(k: tf.Tensor, v: tf.Tensor): void {
    const T = (k.shape as number[])[2];
    const keep = this.maxLength != null && T > this.maxLength ? this.maxLength : T;
    const trim = (t: tf.Tensor) => (keep === T ? tf.clone(t) : tf.slice(t, [0, 0, T - keep, 0], [-1, -1, keep, -1]));
    const [newK, newV] = [tf.keep(trim(k)), tf.keep(trim(v))];
    if (this.k) tf.dispose([this.k, this.v!]);
    this.k = newK;
    this.v = newV;
  }
}
