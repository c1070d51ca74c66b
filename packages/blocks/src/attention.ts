// Multi-head attention as the blocks need it: causal self-attention with
// nanoGPT's fused c_attn, and cross-attention (queries from the decoder, keys
// and values from the encoder output), each with a KV cache for decoding.
//
// NOTE: a stand-in until @tx/attention's MultiHeadAttention lands; it keeps
// the same parameter names (c_attn, c_proj; q_proj, kv_proj, c_proj).
import { Linear, Module, tf } from '@tx/core';
import { tidy } from './tidy.js';
import type { Rng } from '@tx/core';
import { Dropout } from './dropout.js';

export interface AttentionOptions {
  bias: boolean;
  dropout: number;
  rng: Rng;
  dropoutRng: Rng;
  /** Init std of c_proj (nanoGPT: 0.02 / sqrt(2 * nLayer)). */
  projStd?: number;
}

/** Keys and values of the positions seen so far: [B, h, Tpast, d] each. */
export interface KVEntry {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

export interface AttentionOutput {
  /** [B, Tq, C] */
  y: tf.Tensor;
  /** [B, h, Tq, Tk], when asked for. */
  weights?: tf.Tensor;
  /** The keys and values including this call's, for the next cached step. */
  kv: KVEntry;
}

export class SelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly attnDropout: Dropout;
  readonly residDropout: Dropout;

  constructor(readonly dim: number, readonly nHead: number, options: AttentionOptions) {
    super();
    this.c_attn = this.module('c_attn', new Linear(dim, 3 * dim, { bias: options.bias, rng: options.rng }));
    this.c_proj = this.module('c_proj', new Linear(dim, dim, { bias: options.bias, rng: options.rng, std: options.projStd }));
    this.attnDropout = this.module('attn_dropout', new Dropout(options.dropout, options.dropoutRng));
    this.residDropout = this.module('resid_dropout', new Dropout(options.dropout, options.dropoutRng));
  }

  // x: [B, T, C] -> y: [B, T, C]. With `past`, x holds the T newest positions.
  forward(x: tf.Tensor, { causal = true, returnWeights = false, past }: { causal?: boolean; returnWeights?: boolean; past?: KVEntry } = {}): AttentionOutput {
    return tidy(() => {
      const [B, T, C] = x.shape;
      const qkv = tf.reshape(this.c_attn.forward(x), [B, T, 3, this.nHead, C / this.nHead]);
      const [q, kNew, vNew] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])) as tf.Tensor4D[]; // each [B, h, T, d]
      const k = past ? tf.concat([past.k, kNew], 2) : kNew;
      const v = past ? tf.concat([past.v, vNew], 2) : vNew;
      const offset = past ? past.k.shape[2] : 0;
      const { y, weights } = this.attend(q, k, v, causal ? offset : null, returnWeights);
      const out = this.residDropout.forward(this.c_proj.forward(y));
      return weights ? { y: out, weights, kv: { k, v } } : { y: out, kv: { k, v } };
    });
  }

  // q: [B, h, Tq, d], k, v: [B, h, Tk, d] -> y: [B, Tq, C]; causalOffset: query i sits at position offset + i.
  attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, causalOffset: number | null, returnWeights: boolean): { y: tf.Tensor; weights?: tf.Tensor } {
    return scaledDotProduct(q, k, v, causalOffset, returnWeights, this.attnDropout);
  }
}

export class CrossAttention extends Module {
  readonly q_proj: Linear;
  readonly kv_proj: Linear;
  readonly c_proj: Linear;
  readonly attnDropout: Dropout;
  readonly residDropout: Dropout;

  constructor(readonly dim: number, readonly nHead: number, options: AttentionOptions) {
    super();
    this.q_proj = this.module('q_proj', new Linear(dim, dim, { bias: options.bias, rng: options.rng }));
    this.kv_proj = this.module('kv_proj', new Linear(dim, 2 * dim, { bias: options.bias, rng: options.rng }));
    this.c_proj = this.module('c_proj', new Linear(dim, dim, { bias: options.bias, rng: options.rng, std: options.projStd }));
    this.attnDropout = this.module('attn_dropout', new Dropout(options.dropout, options.dropoutRng));
    this.residDropout = this.module('resid_dropout', new Dropout(options.dropout, options.dropoutRng));
  }

  /** The encoder output's keys and values, [B, h, S, d] each: compute once per source, reuse every step. */
  memoryKV(memory: tf.Tensor): KVEntry {
    return tidy(() => {
      const [B, S, C] = memory.shape;
      const kv = tf.reshape(this.kv_proj.forward(memory), [B, S, 2, this.nHead, C / this.nHead]);
      const [k, v] = tf.unstack(tf.transpose(kv, [2, 0, 3, 1, 4])) as tf.Tensor4D[];
      return { k, v };
    });
  }

  // x: [B, T, C], memory: [B, S, C] (or its memoryKV) -> y: [B, T, C]
  forward(x: tf.Tensor, memory: tf.Tensor | KVEntry, { returnWeights = false }: { returnWeights?: boolean } = {}): AttentionOutput {
    return tidy(() => {
      const [B, T, C] = x.shape;
      const kv = memory instanceof tf.Tensor ? this.memoryKV(memory) : memory;
      const q = tf.transpose(tf.reshape(this.q_proj.forward(x), [B, T, this.nHead, C / this.nHead]), [0, 2, 1, 3]) as tf.Tensor4D;
      const { y, weights } = scaledDotProduct(q, kv.k, kv.v, null, returnWeights, this.attnDropout);
      const out = this.residDropout.forward(this.c_proj.forward(y));
      return weights ? { y: out, weights, kv } : { y: out, kv };
    });
  }
}

// softmax(q kᵀ / √d + mask) v, heads merged back: q: [B, h, Tq, d], k, v: [B, h, Tk, d] -> [B, Tq, h·d]
function scaledDotProduct(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, causalOffset: number | null, returnWeights: boolean, dropout: Dropout): { y: tf.Tensor; weights?: tf.Tensor } {
  const [B, h, Tq, d] = q.shape;
  const Tk = k.shape[2];
  const q3 = tf.reshape(q, [B * h, Tq, d]);
  const kT = tf.transpose(tf.reshape(k, [B * h, Tk, d]), [0, 2, 1]);
  let scores = tf.mul(tf.matMul(q3, kT), 1 / Math.sqrt(d)); // [B·h, Tq, Tk]
  if (causalOffset !== null) scores = tf.add(scores, causalMask(Tq, Tk, causalOffset));
  const p = tf.softmax(scores);
  const y = tf.matMul(dropout.forward(p), tf.reshape(v, [B * h, Tk, d])); // [B·h, Tq, d]
  const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, h, Tq, d]), [0, 2, 1, 3]), [B, Tq, h * d]);
  return returnWeights ? { y: merged, weights: tf.reshape(p, [B, h, Tq, Tk]) } : { y: merged };
}

/** [Tq, Tk] additive mask: 0 where key j <= offset + i, -1e9 elsewhere. */
function causalMask(Tq: number, Tk: number, offset: number): tf.Tensor2D {
  const m = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) for (let j = offset + i + 1; j < Tk; j++) m[i * Tk + j] = -1e9;
  return tf.tensor2d(m, [Tq, Tk]);
}
