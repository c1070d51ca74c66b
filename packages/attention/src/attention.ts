// Multi-head attention, "Attention Is All You Need" §3.2.2:
//
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,  head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)
//
// Parameters, named so that checkpoints interoperate:
//   self-attention:  c_attn [C -> (h + 2 hk) d]: W_Q, W_K, W_V fused, as nanoGPT's
//                    c_attn and PyTorch's nn.MultiheadAttention in_proj_weight;
//                    c_proj [C -> C]: W_O (nanoGPT c_proj, PyTorch out_proj).
//   cross-attention: q_proj [C -> h d] (queries from the decoder),
//                    kv_proj [kvDim -> 2 hk d] (keys and values from the encoder output), c_proj.
// Every projection is one 2-D matMul with explicit-transpose gradients
// (core's Linear): the fast path on wasm. Fusing Q, K and V makes it one wide
// matMul instead of three narrow ones.
import { Linear, Module, ShapeError, formatShape, randomUniform, tf, type Rng } from '@tx/core';
import { KVCache } from './cache.js';
import { attend } from './sdpa.js';

/** Anything that rotates [B, h, T, d] queries/keys by absolute position, e.g. @tx/positional's RotaryEmbedding. */
export interface PositionRotation {
  apply(x: tf.Tensor, offset: number): tf.Tensor;
}

export interface MultiHeadAttentionConfig {
  /** Model width C (nanoGPT n_embd). */
  dModel: number;
  /** Query heads h; head size d = dModel / nHeads. */
  nHeads: number;
  /** Key/value heads hk for grouped-query attention (default nHeads; must divide it). */
  nKvHeads?: number;
  /** 'self' (default) or 'cross' (keys and values from a context). */
  kind?: 'self' | 'cross';
  /** Width of the cross-attention context (default dModel). */
  kvDim?: number;
  /** Biases in the projections (default true; nanoGPT's Shakespeare config has none). */
  bias?: boolean;
  /** Dropout on the attention weights and on the output (nanoGPT attn_dropout, resid_dropout). Default 0. */
  dropout?: number;
  /** Causal masking by default (decoder self-attention). Default false. */
  causal?: boolean;
  /** Rotary position embedding applied to q and k (self-attention only). */
  rotary?: PositionRotation | null;
  rng: Rng;
  /** Init std of the input projections (default 0.02). */
  std?: number;
  /** Init std of c_proj (default std; nanoGPT uses 0.02 / sqrt(2 n_layer)). */
  outStd?: number;
}

export interface MultiHeadAttentionCall {
  /** Cross-attention: the encoder output [B, S, kvDim] (may be left out once the cache holds it). */
  context?: tf.Tensor;
  /** Bool (true = may attend) or additive, broadcastable to [B, h, Tq, Tk]. */
  mask?: tf.Tensor | null;
  /** Bool [B, Tk], true = padding. */
  keyPaddingMask?: tf.Tensor | null;
  /** Overrides the config's causal. */
  causal?: boolean;
  /** Sliding-window attention: each query sees at most this many keys (itself included). */
  window?: number | null;
  /** Additive score bias broadcastable to [B, h, Tq, Tk] (ALiBi). */
  bias?: tf.Tensor | null;
  /** Decode with a KV cache: the call appends (self) or reuses (cross) keys and values. */
  cache?: KVCache | null;
  /** Return the attention weights [B, h, Tq, Tk] of this call. */
  returnWeights?: boolean;
}

export interface MultiHeadAttentionOutput {
  /** [B, Tq, dModel] */
  output: tf.Tensor;
  /** [B, h, Tq, Tk] when requested, else null. */
  weights: tf.Tensor | null;
}

export class MultiHeadAttention extends Module {
  readonly dModel: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly kind: 'self' | 'cross';
  readonly kvDim: number;
  readonly causal: boolean;
  readonly dropout: number;
  readonly c_attn: Linear | null = null;
  readonly q_proj: Linear | null = null;
  readonly kv_proj: Linear | null = null;
  readonly c_proj: Linear;
  private readonly rng: Rng;
  private readonly rotary: PositionRotation | null;

  constructor(config: MultiHeadAttentionConfig) {
    super();
    const { dModel, nHeads, nKvHeads = nHeads, kind = 'self', bias = true, dropout = 0, causal = false, rng, std = 0.02 } = config;
    const positive = (n: number) => Number.isInteger(n) && n > 0;
    if (!positive(dModel) || !positive(nHeads) || dModel % nHeads !== 0) {
      throw new ShapeError(`MultiHeadAttention: dModel (${dModel}) must be a positive multiple of nHeads (${nHeads})`);
    }
    if (!positive(nKvHeads) || nHeads % nKvHeads !== 0) {
      throw new ShapeError(`MultiHeadAttention: nKvHeads (${nKvHeads}) must divide nHeads (${nHeads})`);
    }
    if (!(dropout >= 0 && dropout < 1)) throw new ShapeError(`MultiHeadAttention: dropout must be in [0, 1), found ${dropout}`);
    if (kind === 'cross' && config.rotary) throw new ShapeError('MultiHeadAttention: rotary embeddings apply to self-attention only');
    this.dModel = dModel;
    this.nHeads = nHeads;
    this.nKvHeads = nKvHeads;
    this.kind = kind;
    this.causal = causal;
    this.dropout = dropout;
    this.headDim = dModel / nHeads;
    this.kvDim = config.kvDim ?? dModel;
    this.rng = rng;
    this.rotary = config.rotary ?? null;
    const kvWidth = 2 * nKvHeads * this.headDim;
    if (kind === 'self') {
      this.c_attn = this.module('c_attn', new Linear(dModel, dModel + kvWidth, { bias, rng, std }));
    } else {
      this.q_proj = this.module('q_proj', new Linear(dModel, dModel, { bias, rng, std }));
      this.kv_proj = this.module('kv_proj', new Linear(this.kvDim, kvWidth, { bias, rng, std }));
    }
    this.c_proj = this.module('c_proj', new Linear(dModel, dModel, { bias, rng, std: config.outStd ?? std }));
  }

  // x: [B, T, C] -> { output: [B, T, C], weights: [B, h, T, Tk] | null }
  forward(x: tf.Tensor, call: MultiHeadAttentionCall = {}): MultiHeadAttentionOutput {
    const { dModel: C, nHeads: h, nKvHeads: hk, headDim: d } = this;
    if (x.rank !== 3 || (x.shape as number[])[2] !== C) {
      throw new ShapeError(`MultiHeadAttention: x must be [B, T, ${C}], found shape ${formatShape(x.shape)}`);
    }
    const [B, T] = x.shape;
    const cache = call.cache ?? null;
    const context = call.context;
    if (this.kind === 'cross') {
      if (!context && !(cache && cache.length > 0)) throw new ShapeError('MultiHeadAttention (cross): a context [B, S, kvDim] is required');
      if (context && (context.rank !== 3 || (context.shape as number[])[0] !== B || (context.shape as number[])[2] !== this.kvDim)) {
        throw new ShapeError(`MultiHeadAttention (cross): context must be [${B}, S, ${this.kvDim}], found shape ${formatShape(context.shape)}`);
      }
    } else if (context) {
      throw new ShapeError('MultiHeadAttention (self): got a context; use kind "cross" for cross-attention');
    }

    return tf.tidy(() => {
      // [B, T, n * d] -> [B, n, T, d]
      const heads = (t: tf.Tensor, n: number, len: number) => permute(tf.reshape(t, [B, len, n, d]), [0, 2, 1, 3]);
      let q: tf.Tensor;
      let k: tf.Tensor;
      let v: tf.Tensor;
      if (this.kind === 'self') {
        // [B, T, (h + 2hk) d] -> [h + 2hk, B, T, d]: splitting the leading axis copies
        // contiguous blocks (a split of the last axis is tfjs cpu's slowest kernel here).
        const qkv = permute(tf.reshape(this.c_attn!.forward(x), [B, T, h + 2 * hk, d]), [2, 0, 1, 3]);
        const toHeads = (t: tf.Tensor) => permute(t, [1, 0, 2, 3]); // -> [B, n, T, d]
        [q, k, v] = tf.split(qkv, [h, hk, hk], 0).map(toHeads);
        const offset = cache ? cache.position : 0;
        if (this.rotary) [q, k] = [this.rotary.apply(q, offset), this.rotary.apply(k, offset)];
        if (cache) ({ k, v } = cache.append(k, v));
      } else {
        q = heads(this.q_proj!.forward(x), h, T);
        if (cache && cache.length > 0) {
          [k, v] = [cache.k!, cache.v!];
        } else {
          const S = (context!.shape as number[])[1];
          const [kf, vf] = tf.split(this.kv_proj!.forward(context!), 2, 2);
          [k, v] = [heads(kf, hk, S), heads(vf, hk, S)];
          if (cache) cache.set(k, v);
        }
      }
      const training = this.training && this.dropout > 0;
      const window = call.window ?? (cache && this.kind === 'self' ? cache.maxLength : null);
      const { output, weights } = attend(q, k, v, {
        mask: call.mask,
        keyPaddingMask: call.keyPaddingMask,
        causal: call.causal ?? this.causal,
        window,
        bias: call.bias,
        dropout: training ? this.dropout : 0,
        rng: this.rng,
        returnWeights: call.returnWeights,
      });
      // [B, h, T, d] -> [B, T, h d]: Concat(head_1, ..., head_h)
      const merged = tf.reshape(permute(output, [0, 2, 1, 3]), [B, T, C]);
      let y = this.c_proj.forward(merged);
      if (training) {
        const keep = tf.cast(tf.greaterEqual(randomUniform(y.shape, this.rng), this.dropout), 'float32');
        y = tf.mul(y, tf.mul(keep, 1 / (1 - this.dropout)));
      }
      return { output: y, weights } as unknown as tf.TensorContainerObject;
    }) as unknown as MultiHeadAttentionOutput;
  }
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
