// The Llama family's self-attention (Hugging Face's LlamaAttention, with
// Mistral's sliding window and Qwen2's q/k/v biases as settings):
//
//   q = rope(x W_q + b_q),  k = rope(x W_k + b_k),  v = x W_v + b_v
//   q: [B, h, T, d]   k, v: [B, hk, T, d]   (grouped-query: query head j reads KV head floor(j / (h / hk)))
//   out = Concat(softmax(q kᵀ / √d + causal [+ window]) v) W_o
//
// Composed from @tx/attention (scaledDotProductAttention, which repeats the KV
// heads for grouped-query; KVCache holds only the hk KV heads) and a rotation
// from @tx/positional. Why not @tx/attention's SelfAttention: its head size is
// dModel / nHead and its q, k, v are one fused c_attn, while Llama's head_dim
// is its own setting (q_proj is [h·d, C], o_proj [C, h·d]) and its files name
// q_proj, k_proj, v_proj and o_proj, which state dicts keep byte for byte.
import { Linear, Module, ShapeError, formatShape, tf, tidy, type Rng } from '@tx/core';
import { mergeHeads, scaledDotProductAttention, splitHeads, type KVCache, type PositionRotation } from '@tx/attention';

/** How a GroupedQueryAttention is built: heads, KV heads, head size, biases, window and rotation. */
export interface GroupedQueryAttentionOptions {
  /** Query heads h. */
  nHead: number;
  /** Key/value heads hk, dividing h. */
  nKvHead: number;
  /** Channels per head d. */
  headDim: number;
  /** Biases on q_proj, k_proj, v_proj (Qwen2). */
  qkvBias: boolean;
  /** A bias on o_proj (Llama's attention_bias). */
  oBias: boolean;
  /** Keys older than this many positions are not seen (Mistral); null: all earlier keys. */
  window: number | null;
  /** RoPE, shared by the model's layers. */
  rotary: PositionRotation;
  rng: Rng;
  /** Init std of o_proj, the residual projection (default 0.02). */
  outStd?: number;
}

/** Per-call options: a KV cache, and what to return. */
export interface GroupedQueryAttentionCall {
  cache?: KVCache;
  /** Return the attention probabilities [B, h, T, Tk], one row per query head. */
  returnAttention?: boolean;
  /** Return Q [B, h, T, d], K and V [B, hk, Tk, d] as attention used them (rotated, with the cache's). */
  returnQKV?: boolean;
}

/** Causal self-attention with RoPE and grouped-query heads, in Hugging Face's names (q_proj, k_proj, v_proj, o_proj). */
export class GroupedQueryAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly nHead: number;
  readonly nKvHead: number;
  readonly headDim: number;
  readonly window: number | null;
  private readonly rotary: PositionRotation;

  constructor(readonly dModel: number, options: GroupedQueryAttentionOptions) {
    super();
    const { nHead, nKvHead, headDim, qkvBias, oBias, rng } = options;
    if (nHead % nKvHead !== 0) throw new ShapeError(`GroupedQueryAttention: nKvHead (${nKvHead}) must divide nHead (${nHead})`);
    this.nHead = nHead;
    this.nKvHead = nKvHead;
    this.headDim = headDim;
    this.window = options.window;
    this.rotary = options.rotary;
    this.q_proj = this.module('q_proj', new Linear(dModel, nHead * headDim, { bias: qkvBias, rng }));
    this.k_proj = this.module('k_proj', new Linear(dModel, nKvHead * headDim, { bias: qkvBias, rng }));
    this.v_proj = this.module('v_proj', new Linear(dModel, nKvHead * headDim, { bias: qkvBias, rng }));
    this.o_proj = this.module('o_proj', new Linear(nHead * headDim, dModel, { bias: oBias, rng, std: options.outStd }));
  }

  // x: [B, T, C] -> { output [B, T, C], attention [B, h, T, Tk]? }
  forward(x: tf.Tensor, call: GroupedQueryAttentionCall = {}): { output: tf.Tensor; attention: tf.Tensor | null; qkv: { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } | null } {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) throw new ShapeError(`GroupedQueryAttention: x must be [B, T, ${this.dModel}], found shape ${formatShape(x.shape)}`);
    const cache = call.cache;
    return tidy(() => {
      const offset = cache ? cache.position : 0; // the new tokens sit after the cached ones
      const q = this.rotary.apply(splitHeads(this.q_proj.forward(x), this.nHead), offset); // [B, h, T, d]
      let k = this.rotary.apply(splitHeads(this.k_proj.forward(x), this.nKvHead), offset); // [B, hk, T, d]
      let v = splitHeads(this.v_proj.forward(x), this.nKvHead);
      if (cache) ({ k, v } = cache.append(k, v)); // [B, hk, Tk, d]: the cache holds the KV heads only
      const { output, attention } = scaledDotProductAttention(q, k, v, { causal: true, window: this.window, returnAttention: call.returnAttention === true });
      return { output: this.o_proj.forward(mergeHeads(output)), attention, qkv: call.returnQKV ? { q, k, v } : null };
    });
  }
}
