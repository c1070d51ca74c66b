// The Transformer block: sublayers (self-attention, then attention to the
// encoder output when there is one, then the feed-forward network), each
// wrapped in a residual connection and a LayerNorm, either
//   pre-norm  (GPT-2, nanoGPT):  x = x + sublayer(LN(x))
//   post-norm (the paper):       x = LN(x + sublayer(x))
//
// The explainer's blocks are configurations of this one:
//   encoder block   { causal: false, cross: false }   ln_1 attn, ln_2 mlp
//   decoder block   { causal: true,  cross: true }    ln_1 attn, ln_2 cross_attn, ln_3 mlp
//   GPT block       { causal: true,  cross: false, norm: 'pre' }  (nanoGPT's Block)
import { Module, tf, tidy, type Rng } from '@tx/core';
import { CrossAttention, SelfAttention, type AttentionOutput, type KVCache } from '@tx/attention';
import type { Activation } from '../models/config.js';
import { FeedForward } from './feedforward.js';
import { LayerNorm } from './norm.js';

/** How a Block is built: heads, feed-forward width, bias, dropout, causal order, cross-attention and where the norms go. */
export interface BlockOptions {
  nHead: number;
  /** Feed-forward inner width (default 4 x dModel). */
  dFF?: number;
  bias: boolean;
  dropout: number;
  /** Default 'pre'. */
  norm?: 'pre' | 'post';
  /** Self-attention sees only earlier positions (a decoder). Default false. */
  causal?: boolean;
  /** Add attention to an encoder output (the decoder of an encoder-decoder). Default false. */
  cross?: boolean;
  /** Default 'gelu'. */
  activation?: Activation;
  /** Initial weights, then dropout masks. */
  rng: Rng;
  /** Init std of the residual projections (c_proj); nanoGPT: 0.02 / sqrt(2 * nLayer). */
  projStd?: number;
  /** LayerNorm's epsilon (default 1e-5, as PyTorch and GPT-2). */
  layerNormEps?: number;
}

/** Per-call options of Block.forward: the encoder output and padding masks, KV caches, and what to return. */
export interface BlockCall {
  /** The encoder output [B, S, C], for a block with cross-attention. */
  memory?: tf.Tensor | null;
  /** Bool [B, S], true = padding in the encoder's input. */
  memoryPaddingMask?: tf.Tensor | null;
  /** Bool [B, T], true = padding: keys that no query may attend to (self-attention). */
  keyPaddingMask?: tf.Tensor | null;
  /** KV caches for decoding: self-attention's (appended to) and cross-attention's (filled once). */
  cache?: KVCache;
  crossCache?: KVCache;
  /** Also return the attention probabilities of self- and cross-attention. */
  returnAttention?: boolean;
  /** Also return self-attention's Q, K and V. */
  returnQKV?: boolean;
}

/** What Block.forward returns: the output, and the attention probabilities when asked for. */
export interface BlockOutput {
  /** [B, T, C] */
  y: tf.Tensor;
  /** Self-attention's probabilities [B, h, T, Tk], when asked for. */
  attention?: tf.Tensor;
  /** Cross-attention's probabilities [B, h, T, S], when asked for. */
  crossAttention?: tf.Tensor;
  qkv?: AttentionOutput['qkv'];
}

/** One Transformer block: self-attention, optional attention to an encoder output, and the feed-forward network, each with a residual connection and a LayerNorm (pre-norm or post-norm). */
export class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: SelfAttention;
  /** The second sublayer's LayerNorm: the feed-forward's, or with cross-attention the cross-attention's (ln_3 is then the feed-forward's). */
  readonly ln_2: LayerNorm;
  readonly cross_attn: CrossAttention | null = null;
  readonly mlp: FeedForward;
  readonly norm: 'pre' | 'post';
  /** The LayerNorm of each sublayer, in order (ln_1, ln_2 and, with cross-attention, ln_3). */
  private readonly norms: LayerNorm[];

  /** The width C of a token's vector (nanoGPT's n_embd). */
  readonly dModel: number;

  constructor(dModel: number, options: BlockOptions) {
    super();
    const { nHead, bias, dropout, rng, projStd, causal = false, layerNormEps: eps } = options;
    this.dModel = dModel;
    this.norm = options.norm ?? 'pre';
    const attention = { dModel, nHead, bias, dropout, rng, outStd: projStd };
    this.ln_1 = this.module('ln_1', new LayerNorm(dModel, { bias, eps }));
    this.attn = this.module('attn', new SelfAttention({ ...attention, causal }));
    this.ln_2 = this.module('ln_2', new LayerNorm(dModel, { bias, eps }));
    this.norms = [this.ln_1, this.ln_2];
    if (options.cross) {
      this.cross_attn = this.module('cross_attn', new CrossAttention(attention));
      this.norms.push(this.module('ln_3', new LayerNorm(dModel, { bias, eps })));
    }
    this.mlp = this.module('mlp', new FeedForward(dModel, { dFF: options.dFF, bias, activation: options.activation, dropout, rng, projStd }));
  }

  /** @deprecated Use `dModel` (the same width; this name goes in the next minor release). */
  get dim(): number {
    return this.dModel;
  }

  // x: [B, T, C] -> [B, T, C]
  forward(x: tf.Tensor, call: BlockCall = {}): BlockOutput {
    const { returnAttention = false, returnQKV = false } = call;
    return tidy(() => {
      const out: Omit<BlockOutput, 'y'> = {};
      const [selfNorm, crossNorm, mlpNorm] = this.cross_attn ? this.norms : [this.norms[0], null, this.norms[1]];
      let h = this.residual(x, selfNorm, (t) => {
        const a = this.attn.forward(t, { cache: call.cache, keyPaddingMask: call.keyPaddingMask, returnAttention, returnQKV });
        if (a.attention) out.attention = a.attention;
        if (a.qkv) out.qkv = a.qkv;
        return a.output;
      });
      if (this.cross_attn && crossNorm) {
        const cross = this.cross_attn;
        h = this.residual(h, crossNorm, (t) => {
          const a = cross.forward(t, call.memory ?? null, { cache: call.crossCache, keyPaddingMask: call.memoryPaddingMask, returnAttention });
          if (a.attention) out.crossAttention = a.attention;
          return a.output;
        });
      }
      const y = this.residual(h, mlpNorm, (t) => this.mlp.forward(t));
      return { y, ...out };
    });
  }

  /** One sublayer with its residual connection and LayerNorm. */
  private residual(x: tf.Tensor, norm: LayerNorm, sublayer: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    return this.norm === 'pre' ? tf.add(x, sublayer(norm.forward(x))) : norm.forward(tf.add(x, sublayer(x)));
  }
}
