// Multi-head attention, "Attention Is All You Need" §3.2.2:
//
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,  head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)
//
// Self-attention takes Q, K and V from the same tokens (c_attn: W_Q, W_K, W_V
// fused, as nanoGPT and PyTorch's in_proj_weight); cross-attention takes Q
// from the decoder (q_proj) and K, V from the encoder output (kv_proj). Only
// the projections differ: the shared base splits heads, attends, merges, and
// applies W_O (c_proj). Each projection is core's Linear, wasm's fast path.
import { Dropout, Linear, Module, ShapeError, ValueError, formatShape, selfAttention, tf, tidy, type Rng } from '@tx/core';
import type { KVCache } from './cache.js';
import { mergeHeads, permute, splitHeads } from './heads.js';
import type { MaskOptions } from './masks.js';
import { isPlain, scaledDotProductAttention, wantsAttention } from './sdpa.js';

/** Anything that rotates [B, h, T, d] queries/keys by absolute position, e.g. @tx/positional's RotaryEmbedding. */
export interface PositionRotation {
  apply(x: tf.Tensor, offset: number): tf.Tensor;
}

/** The shape and options of a multi-head attention layer (SelfAttention, CrossAttention). */
export interface AttentionConfig {
  /** Model width C (nanoGPT n_embd). */
  dModel: number;
  /** Query heads h; head size d = dModel / nHead. */
  nHead: number;
  /** Key/value heads hk for grouped-query attention (default nHead; must divide it). */
  nKvHead?: number;
  /** Biases in the projections (default true; nanoGPT's Shakespeare config has none). */
  bias?: boolean;
  /** Dropout on the attention probabilities and on the output (nanoGPT attn_dropout, resid_dropout). Default 0. */
  dropout?: number;
  /** Initial weights, then dropout masks. */
  rng: Rng;
  /** Init std of the input projections (default 0.02). */
  std?: number;
  /** Init std of c_proj (default std; nanoGPT uses 0.02 / sqrt(2 n_layer)). */
  outStd?: number;
}

/** Per-call options of SelfAttention's and CrossAttention's forward: masks, a KV cache, and what to return. */
export interface AttentionCall extends MaskOptions {
  /** Self-attention appends this call's keys and values to it; cross-attention fills it once. */
  cache?: KVCache | null;
  /** Return the attention probabilities [B, h, Tq, Tk]. */
  returnAttention?: boolean;
  /** @deprecated Use `returnAttention` (the same flag; this name goes in the next minor release). */
  returnWeights?: boolean;
  /** Return Q [B, h, Tq, d], K and V [B, hk, Tk, d], as attention used them (after rotation, with the cache's). */
  returnQKV?: boolean;
}

/** What SelfAttention and CrossAttention return: the output, and the attention probabilities and Q, K, V when asked for (else null). */
export interface AttentionOutput {
  /** [B, Tq, dModel] */
  output: tf.Tensor;
  /** The attention probabilities [B, h, Tq, Tk] when the call set returnAttention (then typed as a tensor), else null. */
  attention: tf.Tensor | null;
  /** @deprecated Use `attention` (the same tensor; this name goes in the next minor release). */
  weights: tf.Tensor | null;
  qkv: { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } | null;
}

/** What self- and cross-attention share: heads, W_O, dropout. */
export abstract class MultiHeadAttention extends Module {
  readonly dModel: number;
  readonly nHead: number;
  readonly nKvHead: number;
  readonly headDim: number;
  /** W_O, created after the input projections (as nanoGPT orders them: the same initial weights). */
  c_proj!: Linear;
  readonly attn_dropout: Dropout;
  readonly resid_dropout: Dropout;

  constructor(config: AttentionConfig) {
    super();
    const { dModel, nHead, nKvHead = nHead, dropout = 0, rng } = config;
    const positive = (n: number) => Number.isInteger(n) && n > 0;
    if (!positive(dModel) || !positive(nHead) || dModel % nHead !== 0) {
      throw new ValueError(`${new.target.name}: dModel (${dModel}) must be a positive multiple of nHead (${nHead})`);
    }
    if (!positive(nKvHead) || nHead % nKvHead !== 0) throw new ValueError(`${new.target.name}: nKvHead (${nKvHead}) must divide nHead (${nHead})`);
    this.dModel = dModel;
    this.nHead = nHead;
    this.nKvHead = nKvHead;
    this.headDim = dModel / nHead;
    this.attn_dropout = this.module('attn_dropout', new Dropout(dropout, rng));
    this.resid_dropout = this.module('resid_dropout', new Dropout(dropout, rng));
  }

  protected addOutputProjection(config: AttentionConfig): void {
    this.c_proj = this.module('c_proj', new Linear(this.dModel, this.dModel, { bias: config.bias ?? true, rng: config.rng, std: config.outStd ?? config.std ?? 0.02 }));
  }

  // q: [B, h, Tq, d], k, v: [B, hk, Tk, d] -> Concat(head_1..head_h) W_O: [B, Tq, C]
  protected attend(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, call: AttentionCall): AttentionOutput {
    const { output, attention } = scaledDotProductAttention(q, k, v, { ...call, dropout: this.attentionDropout(), returnAttention: wantsAttention(call) });
    return { output: this.project(mergeHeads(output)), attention, weights: attention, qkv: call.returnQKV ? { q, k, v } : null };
  }

  /** W_O and the residual dropout, on the merged heads [B, Tq, C]. */
  protected project(merged: tf.Tensor): tf.Tensor {
    return this.resid_dropout.forward(this.c_proj.forward(merged));
  }

  /** Dropout on the attention probabilities while training (attn_dropout), as scaledDotProductAttention takes it. */
  protected attentionDropout(): { p: number; rng: Rng } | undefined {
    return this.training && this.attn_dropout.p > 0 ? { p: this.attn_dropout.p, rng: this.attn_dropout.rng } : undefined;
  }

  /** @deprecated Use `attentionDropout` (the same; this name goes in the next minor release). */
  protected weightsDropout(): { p: number; rng: Rng } | undefined {
    return this.attentionDropout();
  }

  protected checkInput(x: tf.Tensor, name: string, width: number): void {
    if (x.rank !== 3 || x.shape[2] !== width) throw new ShapeError(`${this.constructor.name}: ${name} must be [B, T, ${width}], found shape ${formatShape(x.shape)}`);
  }
}

/** Q, K and V from the same tokens x; causal for a decoder (each token sees itself and earlier ones). */
export class SelfAttention extends MultiHeadAttention {
  readonly c_attn: Linear;
  readonly causal: boolean;
  private readonly rotary: PositionRotation | null;

  constructor(config: AttentionConfig & { causal?: boolean; rotary?: PositionRotation | null }) {
    super(config);
    this.causal = config.causal ?? false;
    this.rotary = config.rotary ?? null;
    const width = (this.nHead + 2 * this.nKvHead) * this.headDim;
    this.c_attn = this.module('c_attn', new Linear(this.dModel, width, { bias: config.bias ?? true, rng: config.rng, std: config.std }));
    this.addOutputProjection(config);
  }

  // x: [B, T, C] -> [B, T, C]
  forward(x: tf.Tensor, call: AttentionCall & { returnAttention: true }): AttentionOutput & { attention: tf.Tensor; weights: tf.Tensor };
  /** @deprecated Use `returnAttention: true` and the result's `attention`. */
  forward(x: tf.Tensor, call: AttentionCall & { returnWeights: true }): AttentionOutput & { attention: tf.Tensor; weights: tf.Tensor };
  forward(x: tf.Tensor, call?: AttentionCall): AttentionOutput;
  forward(x: tf.Tensor, call: AttentionCall = {}): AttentionOutput {
    this.checkInput(x, 'x', this.dModel);
    const [B, T] = x.shape;
    const { nHead: h, nKvHead: hk, headDim: d } = this;
    return tidy(() => {
      const projected = this.c_attn.forward(x);
      const cache = call.cache ?? null;
      const causal = call.causal ?? this.causal;
      // Plain attention reads Q, K and V straight from c_attn's output and writes the heads
      // merged (@tx/core's selfAttention: on wasm no split, transposes or concatenation, either way).
      if (!this.rotary && !cache && hk === h && !call.returnQKV && isPlain({ ...call, dropout: this.attentionDropout() })) {
        return { output: this.project(selfAttention(projected, h, { scale: 1 / Math.sqrt(d), causal })), attention: null, weights: null, qkv: null };
      }
      // [B, T, (h + 2hk) d] -> [h + 2hk, B, T, d]: splitting the leading axis copies
      // contiguous blocks (a split of the last axis is tfjs cpu's slowest kernel here).
      const qkv = permute(tf.reshape(projected, [B, T, h + 2 * hk, d]), [2, 0, 1, 3]);
      let [q, k, v] = tf.split(qkv, [h, hk, hk], 0).map((t) => permute(t, [1, 0, 2, 3])); // [B, n, T, d]
      if (this.rotary) {
        const offset = cache ? cache.position : 0;
        [q, k] = [this.rotary.apply(q, offset), this.rotary.apply(k, offset)];
      }
      if (cache) ({ k, v } = cache.append(k, v));
      return this.attend(q, k, v, { ...call, causal });
    });
  }
}

/** Q from the tokens x, K and V from a context (the encoder output). */
export class CrossAttention extends MultiHeadAttention {
  readonly q_proj: Linear;
  readonly kv_proj: Linear;
  readonly kvDim: number;

  constructor(config: AttentionConfig & { kvDim?: number }) {
    super(config);
    this.kvDim = config.kvDim ?? this.dModel;
    const { bias = true, rng, std } = config;
    this.q_proj = this.module('q_proj', new Linear(this.dModel, this.dModel, { bias, rng, std }));
    this.kv_proj = this.module('kv_proj', new Linear(this.kvDim, 2 * this.nKvHead * this.headDim, { bias, rng, std }));
    this.addOutputProjection(config);
  }

  // x: [B, T, C], context: [B, S, kvDim] (may be null once the cache holds its keys and values) -> [B, T, C]
  forward(x: tf.Tensor, context: tf.Tensor | null, call: AttentionCall & { returnAttention: true }): AttentionOutput & { attention: tf.Tensor; weights: tf.Tensor };
  /** @deprecated Use `returnAttention: true` and the result's `attention`. */
  forward(x: tf.Tensor, context: tf.Tensor | null, call: AttentionCall & { returnWeights: true }): AttentionOutput & { attention: tf.Tensor; weights: tf.Tensor };
  forward(x: tf.Tensor, context: tf.Tensor | null, call?: AttentionCall): AttentionOutput;
  forward(x: tf.Tensor, context: tf.Tensor | null, call: AttentionCall = {}): AttentionOutput {
    this.checkInput(x, 'x', this.dModel);
    const cache = call.cache ?? null;
    const cached = cache !== null && cache.length > 0;
    if (!cached) {
      if (!context) throw new ShapeError('CrossAttention: a context [B, S, kvDim] is required');
      this.checkInput(context, 'the context', this.kvDim);
      if (context.shape[0] !== x.shape[0]) throw new ShapeError(`CrossAttention: the context has batch ${context.shape[0]}, x has ${x.shape[0]}`);
    }
    return tidy(() => {
      const q = splitHeads(this.q_proj.forward(x), this.nHead);
      let k: tf.Tensor;
      let v: tf.Tensor;
      if (cached) {
        [k, v] = [cache.k!, cache.v!];
      } else {
        [k, v] = tf.split(this.kv_proj.forward(context!), 2, 2).map((t) => splitHeads(t, this.nKvHead));
        cache?.set(k, v);
      }
      return this.attend(q, k, v, call);
    });
  }
}
