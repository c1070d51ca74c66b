// Transformer blocks: a sublayer (attention or feed-forward) wrapped in a
// residual connection and a LayerNorm, either
//   pre-norm  (GPT-2, nanoGPT):  x = x + sublayer(LN(x))
//   post-norm (the paper):       x = LN(x + sublayer(x))
import { Module, tf } from '@tx/core';
import { tidy } from './tidy.js';
import type { Rng } from '@tx/core';
import { KVCache, MultiHeadAttention } from '@tx/attention';
import type { Activation } from './config.js';
import { FeedForward } from './feedforward.js';
import { LayerNorm } from './norm.js';

export interface BlockOptions {
  nHead: number;
  /** Feed-forward inner width (default 4 x dim). */
  dFF?: number;
  bias: boolean;
  dropout: number;
  /** Default 'pre'. */
  norm?: 'pre' | 'post';
  /** Default 'gelu'. */
  activation?: Activation;
  /** Initial weights, then dropout masks. */
  rng: Rng;
  /** Init std of the residual projections (c_proj); nanoGPT: 0.02 / sqrt(2 * nLayer). */
  projStd?: number;
}

/** The sublayers every block is made of, from the block options. */
function attention(dim: number, { nHead, bias, dropout, rng, projStd }: BlockOptions, kind: 'self' | 'cross' = 'self'): MultiHeadAttention {
  return new MultiHeadAttention({ dModel: dim, nHeads: nHead, kind, bias, dropout, rng, outStd: projStd });
}

function feedForward(dim: number, { dFF, bias, activation, dropout, rng, projStd }: BlockOptions): FeedForward {
  return new FeedForward(dim, { hidden: dFF, bias, activation, dropout, rng, dropoutRng: rng, projStd });
}

export interface BlockCall {
  /** Mask attention to later positions (decoder self-attention). */
  causal?: boolean;
  /** Also return the attention weights. */
  returnAttention?: boolean;
  /** Self-attention KV cache for decoding (@tx/attention's KVCache): the call appends to it. */
  cache?: KVCache;
  /** Bool [B, T], true = padding: keys that no query may attend to. */
  keyPaddingMask?: tf.Tensor;
}

export interface EncoderBlockOutput {
  /** [B, T, C] */
  y: tf.Tensor;
  /** Self-attention weights [B, h, T, Tk], when asked for. */
  attention?: tf.Tensor;
}

/** Self-attention then feed-forward; names ln_1, attn, ln_2, mlp (nanoGPT's Block). */
export class EncoderBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: FeedForward;
  readonly norm: 'pre' | 'post';

  constructor(readonly dim: number, options: BlockOptions) {
    super();
    const { bias } = options;
    this.norm = options.norm ?? 'pre';
    this.ln_1 = this.module('ln_1', new LayerNorm(dim, { bias }));
    this.attn = this.module('attn', attention(dim, options));
    this.ln_2 = this.module('ln_2', new LayerNorm(dim, { bias }));
    this.mlp = this.module('mlp', feedForward(dim, options));
  }

  // x: [B, T, C] -> [B, T, C]. causal: each position sees itself and earlier ones (and the cache's).
  forward(x: tf.Tensor, { causal = false, returnAttention = false, cache, keyPaddingMask }: BlockCall = {}): EncoderBlockOutput {
    return tidy(() => {
      const opts = { causal, returnWeights: returnAttention, cache, keyPaddingMask };
      let y: tf.Tensor;
      let a;
      if (this.norm === 'pre') {
        a = this.attn.forward(this.ln_1.forward(x), opts);
        const h = tf.add(x, a.output);
        y = tf.add(h, this.mlp.forward(this.ln_2.forward(h)));
      } else {
        a = this.attn.forward(x, opts);
        const h = this.ln_1.forward(tf.add(x, a.output));
        y = this.ln_2.forward(tf.add(h, this.mlp.forward(h)));
      }
      return a.weights ? { y, attention: a.weights } : { y };
    });
  }
}

/** nanoGPT's Block: a pre-norm, causal EncoderBlock. */
export class GPTBlock extends EncoderBlock {
  constructor(dim: number, options: Omit<BlockOptions, 'norm'>) {
    super(dim, { ...options, norm: 'pre' });
  }

  override forward(x: tf.Tensor, options: Omit<BlockCall, 'causal'> = {}): EncoderBlockOutput {
    return super.forward(x, { ...options, causal: true });
  }
}

export interface DecoderBlockCall {
  returnAttention?: boolean;
  /** Self-attention KV cache (appended to). */
  cache?: KVCache;
  /** Cross-attention cache: holds the encoder output's keys and values after the first call. */
  crossCache?: KVCache;
  /** Bool [B, S], true = padding in the source. */
  memoryPaddingMask?: tf.Tensor;
}

export interface DecoderBlockOutput {
  /** [B, T, C] */
  y: tf.Tensor;
  /** Masked self-attention weights [B, h, T, Tk], when asked for. */
  selfAttention?: tf.Tensor;
  /** Cross-attention weights [B, h, T, S], when asked for. */
  crossAttention?: tf.Tensor;
}

/** Masked self-attention, attention to the encoder output, feed-forward; names ln_1, attn, ln_2, cross_attn, ln_3, mlp. */
export class DecoderBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln_2: LayerNorm;
  readonly cross_attn: MultiHeadAttention;
  readonly ln_3: LayerNorm;
  readonly mlp: FeedForward;
  readonly norm: 'pre' | 'post';

  constructor(readonly dim: number, options: BlockOptions) {
    super();
    const { bias } = options;
    this.norm = options.norm ?? 'pre';
    this.ln_1 = this.module('ln_1', new LayerNorm(dim, { bias }));
    this.attn = this.module('attn', attention(dim, options));
    this.ln_2 = this.module('ln_2', new LayerNorm(dim, { bias }));
    this.cross_attn = this.module('cross_attn', attention(dim, options, 'cross'));
    this.ln_3 = this.module('ln_3', new LayerNorm(dim, { bias }));
    this.mlp = this.module('mlp', feedForward(dim, options));
  }

  // x: [B, T, C], memory: the encoder output [B, S, C] -> [B, T, C]
  forward(x: tf.Tensor, memory: tf.Tensor, { returnAttention = false, cache, crossCache, memoryPaddingMask }: DecoderBlockCall = {}): DecoderBlockOutput {
    return tidy(() => {
      const selfOpts = { causal: true, returnWeights: returnAttention, cache };
      const crossOpts = { context: memory, returnWeights: returnAttention, cache: crossCache, keyPaddingMask: memoryPaddingMask };
      let y: tf.Tensor;
      let s;
      let c;
      if (this.norm === 'pre') {
        s = this.attn.forward(this.ln_1.forward(x), selfOpts);
        const h1 = tf.add(x, s.output);
        c = this.cross_attn.forward(this.ln_2.forward(h1), crossOpts);
        const h2 = tf.add(h1, c.output);
        y = tf.add(h2, this.mlp.forward(this.ln_3.forward(h2)));
      } else {
        s = this.attn.forward(x, selfOpts);
        const h1 = this.ln_1.forward(tf.add(x, s.output));
        c = this.cross_attn.forward(h1, crossOpts);
        const h2 = this.ln_2.forward(tf.add(h1, c.output));
        y = this.ln_3.forward(tf.add(h2, this.mlp.forward(h2)));
      }
      const out: DecoderBlockOutput = { y };
      if (s.weights) out.selfAttention = s.weights;
      if (c.weights) out.crossAttention = c.weights;
      return out;
    });
  }
}

/** A named group of modules (torch.nn.ModuleDict): GPT's `transformer`, the encoder and decoder stacks. */
export class ModuleDict extends Module {
  add<M extends Module>(name: string, child: M): M {
    return this.module(name, child);
  }
}
