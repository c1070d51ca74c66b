// GPT: a decoder-only Transformer with nanoGPT's architecture and names.
//
//   transformer.wte   token embedding [V, C] (also the output layer: lm_head is tied to it)
//   transformer.wpe   learned positions [blockSize, C]
//   transformer.h.i   Block (causal, pre-norm): ln_1, attn (c_attn, c_proj), ln_2, mlp (c_fc, c_proj)
//   transformer.ln_f  final LayerNorm
//   logits = ln_f(x) · wteᵀ  (wte's rows read as they are: no transposed copy is kept)
//
// The forward is written once, here. Decoding sessions run it through tfjs
// with KV caches, or hand the fused wasm decoder (@tx/core) this model's
// layer description and weights (decoderLayout, decoderWeights): a backend of
// this forward, not a second model.
import { Dropout, Module, ModuleDict, ModuleList, Rng, ShapeError, StateDictError, formatShape, matMul, tf, tidy } from '@tx/core';
import type { Affine, DecoderLayout, DecoderWeights, LanguageModel, SessionOptions, StateDict } from '@tx/core';
import { KVCache } from '@tx/attention';
import { LearnedPositionalEmbedding } from '@tx/positional';
import { GPTSession } from '../decoding/session.js';
import { Block } from '../layers/block.js';
import { Embedding } from '../layers/embedding.js';
import { LayerNorm } from '../layers/norm.js';
import { checkGPTConfig, type GPTConfig } from './config.js';

/** How a GPT is created: the seeded Rng of its initial weights and dropout masks. */
export interface GPTOptions {
  /** Initial weights, then dropout masks (default new Rng(1337)). Save its state to resume a run exactly. */
  rng?: Rng;
}

/** Per-call options of GPT.forward: what to return, and KV caches. */
export interface GPTForwardOptions {
  /** Also return every layer's attention probabilities. */
  returnAttention?: boolean;
  /** Also return every layer's Q, K and V (for the explainer's arithmetic). */
  returnQKV?: boolean;
  /**
   * KV caches (model.createCache()): ids continue the sequence held in them,
   * which is updated. The positions must stay within blockSize: past the
   * context, a decoding session (startSession) crops or restarts.
   */
  cache?: KVCache[];
}

/** What GPT.forward returns: the logits, and each layer's attention and Q, K, V when asked for. */
export interface GPTOutput {
  /** [B, T, vocabSize] */
  logits: tf.Tensor3D;
  /** One [B, nHead, T, Tk] tensor per layer, when asked for. */
  attention?: tf.Tensor4D[];
  /** Per layer, Q [B, nHead, T, d] and K, V [B, nHead, Tk, d], when asked for. */
  qkv?: LayerQKV[];
}

/** One layer's Q, K and V, as GPT.forward returns them with returnQKV. */
export type LayerQKV = { q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D };

/** nanoGPT's GPT, with its parameter names: token and learned position embeddings, causal pre-norm Blocks, a final LayerNorm and an lm_head tied to the token embedding. */
export class GPT extends Module implements LanguageModel {
  readonly config: Readonly<GPTConfig>;
  readonly transformer: ModuleDict;
  readonly wte: Embedding;
  readonly wpe: LearnedPositionalEmbedding;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm;
  readonly drop: Dropout;
  readonly rng: Rng;

  constructor(config: GPTConfig, { rng = new Rng(1337) }: GPTOptions = {}) {
    super();
    checkGPTConfig(config);
    this.config = Object.freeze({ ...config });
    const { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias, activation, layerNormEps } = config;
    this.rng = rng;
    this.transformer = this.module('transformer', new ModuleDict());
    this.wte = this.transformer.add('wte', new Embedding(vocabSize, nEmbd, { rng }));
    this.wpe = this.transformer.add('wpe', new LearnedPositionalEmbedding(blockSize, nEmbd, { rng }));
    this.drop = this.transformer.add('drop', new Dropout(dropout, rng));
    const projStd = 0.02 / Math.sqrt(2 * nLayer);
    const blocks = Array.from({ length: nLayer }, () => new Block(nEmbd, { nHead, bias, dropout, activation, rng, projStd, layerNormEps, causal: true, norm: 'pre' }));
    this.h = this.transformer.add('h', new ModuleList(blocks));
    this.ln_f = this.transformer.add('ln_f', new LayerNorm(nEmbd, { bias, eps: layerNormEps }));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  // ids: int32 [B, T] -> logits [B, T, vocabSize]
  forward(ids: tf.Tensor, { returnAttention = false, returnQKV = false, cache }: GPTForwardOptions = {}): GPTOutput {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ShapeError(`GPT: ids must be int32 [B, T], found ${ids.dtype} ${formatShape(ids.shape)}`);
    const T = ids.shape[1]!;
    const offset = cache?.[0]?.position ?? 0; // positions of the new tokens: after the cached ones
    if (offset + T > this.config.blockSize) {
      const what = offset ? `positions ${offset}..${offset + T - 1} are` : `a sequence of ${T} tokens is`;
      throw new ShapeError(`GPT: ${what} past the context (blockSize ${this.config.blockSize}); a decoding session crops or restarts instead`);
    }
    return tidy(() => {
      let x = this.drop.forward(tf.add(this.wte.forward(ids), this.wpe.forward(T, offset))); // [B, T, C]
      const out: Required<Omit<GPTOutput, 'logits'>> = { attention: [], qkv: [] };
      [...this.h].forEach((block, i) => {
        const o = block.forward(x, { returnAttention, returnQKV, cache: cache?.[i] });
        x = o.y;
        if (o.attention) out.attention.push(o.attention as tf.Tensor4D);
        if (o.qkv) out.qkv.push(o.qkv as LayerQKV);
      });
      const logits = this.lmHead(this.ln_f.forward(x));
      return { logits, ...(returnAttention ? { attention: out.attention } : {}), ...(returnQKV ? { qkv: out.qkv } : {}) };
    });
  }

  // x: [B, T, C] -> [B, T, V], the output layer tied to wte: x · wteᵀ, reading wte's rows
  lmHead(x: tf.Tensor): tf.Tensor3D {
    return tidy(() => {
      const [B, T, C] = x.shape;
      const logits = matMul(tf.reshape(x, [B * T, C]) as tf.Tensor2D, this.wte.weight as tf.Tensor2D, { transposeB: true });
      return tf.reshape(logits, [B, T, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /** nanoGPT's state dict: every parameter, plus lm_head.weight (the same tensor as transformer.wte.weight). */
  override stateDict(): StateDict {
    const sd = super.stateDict();
    sd['lm_head.weight'] = tf.clone(sd['transformer.wte.weight']);
    return sd;
  }

  /**
   * Load nanoGPT's names. lm_head.weight and transformer.wte.weight are tied:
   * either or both may be present (if both, they must be equal). nanoGPT's
   * causal-mask buffers (transformer.h.i.attn.bias with no c_attn bias, from
   * PyTorch < 2.0) are not parameters and are skipped.
   */
  override loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): void {
    const own = new Set(this.namedParameters().map(([n]) => n));
    const rest: StateDict = {};
    for (const [name, t] of Object.entries(dict)) {
      if (/\.attn\.(bias|masked_bias)$/.test(name) && !own.has(name)) continue;
      if (name !== 'lm_head.weight') rest[name] = t;
    }
    const head = dict['lm_head.weight'];
    const wte = dict['transformer.wte.weight'];
    if (head && wte) {
      // Compared where the data is in host memory; on a GPU a synchronous read would stall it (wte is used).
      const host = ['cpu', 'wasm'].includes(tf.getBackend());
      const same = head.shape.join() === wte.shape.join() && (!host || tf.tidy(() => tf.all(tf.equal(head, wte)).dataSync()[0] === 1));
      if (!same) throw new StateDictError('state dict does not fit GPT: lm_head.weight differs from transformer.wte.weight, but GPT ties them');
    } else if (head) {
      rest['transformer.wte.weight'] = head;
    }
    super.loadStateDict(rest, options);
  }

  /** This model's layers as @tx/core's fused decoder reads them: pre-norm LayerNorm blocks, learned positions, an ungated MLP. */
  decoderLayout(): DecoderLayout {
    const { nLayer, nHead, nEmbd, vocabSize, blockSize, activation = 'gelu', layerNormEps = 1e-5 } = this.config;
    const dFF = this.h.at(0).mlp.c_fc.outFeatures;
    return { layers: nLayer, heads: nHead, kvHeads: nHead, dModel: nEmbd, dFF, vocab: vocabSize, context: blockSize, norm: 'layerNorm', normEps: layerNormEps, activation, gated: false, positions: 'learned' };
  }

  /**
   * The weights by their place in the layer description (the variables
   * themselves, read in place; the head is tied: wte's rows), or null in
   * training mode, where dropout makes the fused decoder's forward differ.
   */
  decoderWeights(): DecoderWeights | null {
    if (this.training) return null;
    const affine = (l: { weight: tf.Variable; bias: tf.Variable | null }): Affine => [l.weight, l.bias];
    return {
      embed: this.wte.weight,
      positions: this.wpe.weight,
      normF: affine(this.ln_f),
      head: null,
      layers: [...this.h].map((b) => ({
        norm1: affine(b.ln_1),
        qkv: affine(b.attn.c_attn),
        proj: affine(b.attn.c_proj),
        norm2: affine(b.ln_2),
        up: affine(b.mlp.c_fc),
        gate: null,
        down: affine(b.mlp.c_proj),
      })),
    };
  }

  /** Empty KV caches for forward(ids, { cache }), one per layer. */
  createCache(): KVCache[] {
    return Array.from({ length: this.config.nLayer }, () => new KVCache());
  }

  /** A decoding session for @tx/generate: feeds ids, returns the next token's logits (see decoding/session.ts). */
  startSession(options: SessionOptions = {}): GPTSession {
    return new GPTSession(this, options);
  }
}
