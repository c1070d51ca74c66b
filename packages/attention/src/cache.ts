// KVCache: the keys and values of the tokens decoded so far, so that each new
// token costs one position's work instead of recomputing the whole prefix.
//
// Self-attention appends each step's keys and values; cross-attention stores
// the encoder's once and reuses them. What happens past a model's context is
// not the cache's business: the decoding session decides (@tx/blocks).
//
// The cache owns its tensors (they survive tf.tidy); call dispose() when done.
// It is for inference: gradients do not flow through cached steps.
import { ShapeError, formatShape, tf } from '@tx/core';

/** One layer's keys and values of earlier tokens, so that decoding computes each new position once, with the outputs of a full recomputation. */
export class KVCache {
  /** [B, hk, length, d] after the last update, or null when empty. */
  k: tf.Tensor | null = null;
  v: tf.Tensor | null = null;

  /** Cached positions: the absolute position of the next token. */
  get length(): number {
    return this.k ? (this.k.shape as number[])[2] : 0;
  }

  /** The same as length (a rotary or ALiBi offset). */
  get position(): number {
    return this.length;
  }

  /**
   * Append k, v ([B, hk, T, d]) and return all keys and values the new
   * queries attend to. Call inside tf.tidy: the returned tensors belong to
   * the caller's scope.
   */
  append(k: tf.Tensor, v: tf.Tensor): { k: tf.Tensor; v: tf.Tensor } {
    if (this.k && ((k.shape as number[])[0] !== (this.k.shape as number[])[0] || (k.shape as number[])[1] !== (this.k.shape as number[])[1] || (k.shape as number[])[3] !== (this.k.shape as number[])[3])) {
      throw new ShapeError(`KVCache: new keys ${formatShape(k.shape)} do not continue the cached ${formatShape(this.k.shape)}`);
    }
    const fullK = this.k ? tf.concat([this.k, k], 2) : k;
    const fullV = this.v ? tf.concat([this.v, v], 2) : v;
    this.store(fullK, fullV);
    return { k: fullK, v: fullV };
  }

  /** Replace the contents (cross-attention: the encoder's keys and values). */
  set(k: tf.Tensor, v: tf.Tensor): void {
    this.store(k, v);
  }

  /** An independent copy (for beam search). */
  clone(): KVCache {
    const copy = new KVCache();
    if (this.k) copy.store(this.k, this.v!);
    return copy;
  }

  /** Forget everything and free the tensors. */
  dispose(): void {
    if (this.k) tf.dispose([this.k, this.v!]);
    this.k = this.v = null;
  }

  private store(k: tf.Tensor, v: tf.Tensor): void {
    const [newK, newV] = [tf.keep(tf.clone(k)), tf.keep(tf.clone(v))];
    if (this.k) tf.dispose([this.k, this.v!]);
    this.k = newK;
    this.v = newV;
  }
}
