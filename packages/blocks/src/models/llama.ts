// Llama: the decoder of the Llama family (Llama 2 and 3, Mistral, Qwen2,
// SmolLM, TinyLlama), composed from this toolkit's modules, with Hugging
// Face's parameter names so that a LlamaForCausalLM state dict loads as is:
//
//   model.embed_tokens                 token embedding [V, C] (no position table: RoPE rotates q and k)
//   model.layers.i.input_layernorm     RMSNorm
//   model.layers.i.self_attn           q_proj, k_proj, v_proj, o_proj (grouped-query, RoPE, optional window)
//   model.layers.i.post_attention_layernorm  RMSNorm
//   model.layers.i.mlp                 gate_proj, up_proj, down_proj (SiLU-gated)
//   model.norm                         final RMSNorm
//   lm_head                            [V, C], or the embedding itself when tied
//
//   x = x + self_attn(input_layernorm(x));  x = x + mlp(post_attention_layernorm(x))
//   logits = lm_head(norm(x))
//
// The reference is transformers' src/transformers/models/llama/modeling_llama.py
// (v4.46); tooling/fixtures/hf_llama.py writes its forward in plain torch.
import { Linear, Module, ModuleDict, ModuleList, Rng, ShapeError, StateDictError, formatShape, matMul, tf, tidy } from '@tx/core';
import type { Affine, DecoderLayout, DecoderWeights, LanguageModel, SessionOptions, StateDict } from '@tx/core';
import { KVCache } from '@tx/attention';
import { RotaryEmbedding } from '@tx/positional';
import { GPTSession } from '../decoding/session.js';
import { Embedding } from '../layers/embedding.js';
import { GatedMLP } from '../layers/gated-mlp.js';
import { GroupedQueryAttention } from '../layers/grouped-attention.js';
import { RMSNorm } from '../layers/rmsnorm.js';
import { checkLlamaConfig, type LlamaConfig } from './llama-config.js';
import type { GPTForwardOptions, GPTOutput, LayerQKV } from './gpt.js';

/** One decoder layer of the Llama family (HF's LlamaDecoderLayer): pre-norm RMSNorm, attention, RMSNorm, gated MLP. */
export class LlamaDecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: GroupedQueryAttention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: GatedMLP;

  constructor(c: LlamaConfig, rotary: RotaryEmbedding, rng: Rng) {
    super();
    const outStd = 0.02 / Math.sqrt(2 * c.nLayer); // residual projections, as nanoGPT
    this.input_layernorm = this.module('input_layernorm', new RMSNorm(c.nEmbd, { eps: c.rmsNormEps }));
    this.self_attn = this.module('self_attn', new GroupedQueryAttention(c.nEmbd, { nHead: c.nHead, nKvHead: c.nKvHead, headDim: c.headDim, qkvBias: c.qkvBias, oBias: c.oBias, window: c.slidingWindow, rotary, rng, outStd }));
    this.post_attention_layernorm = this.module('post_attention_layernorm', new RMSNorm(c.nEmbd, { eps: c.rmsNormEps }));
    this.mlp = this.module('mlp', new GatedMLP(c.nEmbd, { hidden: c.intermediateSize, rng, outStd }));
  }

  // x: [B, T, C] -> [B, T, C]
  forward(x: tf.Tensor, call: { cache?: KVCache; returnAttention?: boolean; returnQKV?: boolean }): { y: tf.Tensor; attention: tf.Tensor | null; qkv: LayerQKV | null } {
    return tidy(() => {
      const a = this.self_attn.forward(this.input_layernorm.forward(x), call);
      const h = tf.add(x, a.output);
      const y = tf.add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
      return { y, attention: a.attention, qkv: a.qkv as LayerQKV | null };
    });
  }
}

/** A Llama-family decoder-only model (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM), in Hugging Face's names. */
export class Llama extends Module implements LanguageModel {
  readonly config: Readonly<LlamaConfig>;
  readonly model: ModuleDict;
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  /** The untied output layer, or null when it is embed_tokens (tieWordEmbeddings). */
  readonly lm_head: Linear | null;
  readonly rng: Rng;
  /** RoPE's cos/sin tables, shared by every layer (not parameters). */
  readonly rotary: RotaryEmbedding;

  constructor(config: LlamaConfig, { rng = new Rng(1337) }: { rng?: Rng } = {}) {
    super();
    checkLlamaConfig(config);
    this.config = Object.freeze({ ...config });
    this.rng = rng;
    const c = config;
    // RoPE's tables stay in JavaScript and apply uploads only the rows it needs, so a full table costs
    // nothing per step; up to 4,096 positions are made now, more if a sequence grows past them.
    this.rotary = new RotaryEmbedding(c.headDim, { base: c.ropeTheta, maxLen: Math.min(c.blockSize, 4096) });
    this.model = this.module('model', new ModuleDict());
    this.embed_tokens = this.model.add('embed_tokens', new Embedding(c.vocabSize, c.nEmbd, { rng }));
    this.layers = this.model.add('layers', new ModuleList(Array.from({ length: c.nLayer }, () => new LlamaDecoderLayer(c, this.rotary, rng))));
    this.norm = this.model.add('norm', new RMSNorm(c.nEmbd, { eps: c.rmsNormEps }));
    this.lm_head = c.tieWordEmbeddings ? null : this.module('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false, rng }));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  // ids: int32 [B, T] -> logits [B, T, vocabSize] (and each layer's attention [B, nHead, T, Tk], Q, K, V when asked for)
  forward(ids: tf.Tensor, { returnAttention = false, returnQKV = false, cache }: GPTForwardOptions = {}): GPTOutput {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ShapeError(`Llama: ids must be int32 [B, T], found ${ids.dtype} ${formatShape(ids.shape)}`);
    const T = ids.shape[1]!;
    const offset = cache?.[0]?.position ?? 0;
    if (offset + T > this.config.blockSize) {
      const what = offset ? `positions ${offset}..${offset + T - 1} are` : `a sequence of ${T} tokens is`;
      throw new ShapeError(`Llama: ${what} past the context (blockSize ${this.config.blockSize}); a decoding session crops or restarts instead`);
    }
    return tidy(() => {
      let x = this.embed_tokens.forward(ids); // [B, T, C]
      const attention: tf.Tensor4D[] = [];
      const qkv: LayerQKV[] = [];
      [...this.layers].forEach((layer, i) => {
        const o = layer.forward(x, { cache: cache?.[i], returnAttention, returnQKV });
        x = o.y;
        if (o.attention) attention.push(o.attention as tf.Tensor4D);
        if (o.qkv) qkv.push(o.qkv);
      });
      const logits = this.head(this.norm.forward(x));
      return { logits, ...(returnAttention ? { attention } : {}), ...(returnQKV ? { qkv } : {}) };
    });
  }

  // x: [B, T, C] -> [B, T, V]: lm_head, or x · embed_tokensᵀ when tied (the embedding's rows read
  // in place where the backend's matMul takes a transposed operand: no copy of a [V, C] table per step)
  private head(x: tf.Tensor): tf.Tensor3D {
    if (this.lm_head) return this.lm_head.forward(x) as tf.Tensor3D;
    return tidy(() => {
      const [B, T, C] = x.shape;
      const logits = matMul(tf.reshape(x, [B * T, C]) as tf.Tensor2D, this.embed_tokens.weight as tf.Tensor2D, { transposeB: true });
      return tf.reshape(logits, [B, T, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * Load Hugging Face's names. Skipped: RoPE's inv_freq buffers (older
   * checkpoints store them; they are computed from ropeTheta). With a tied
   * head, lm_head.weight may be present only if equal to the embedding.
   */
  override loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): void {
    const rest: StateDict = {};
    for (const [name, t] of Object.entries(dict)) if (!/\.rotary_emb\.inv_freq$/.test(name)) rest[name] = t;
    const head = rest['lm_head.weight'];
    const embed = rest['model.embed_tokens.weight'];
    if (this.config.tieWordEmbeddings && head) {
      const same = embed !== undefined && head.shape.join() === embed.shape.join() && tf.tidy(() => tf.all(tf.equal(head, embed)).dataSync()[0] === 1);
      if (!same) throw new StateDictError('state dict does not fit Llama: lm_head.weight differs from model.embed_tokens.weight, but the config ties them (tieWordEmbeddings)');
      delete rest['lm_head.weight'];
    }
    super.loadStateDict(rest, options);
  }

  override dispose(): void {
    this.rotary.dispose();
    super.dispose();
  }

  /** Empty KV caches for forward(ids, { cache }), one per layer; each holds nKvHead heads. */
  createCache(): KVCache[] {
    return Array.from({ length: this.config.nLayer }, () => new KVCache());
  }

  /** The layer description @tx/core's fused decoder reads: RMSNorm, a SiLU gate, RoPE (its base, the head size), nKvHead key/value heads, Mistral's window. */
  decoderLayout(): DecoderLayout {
    const c = this.config;
    return {
      layers: c.nLayer, heads: c.nHead, kvHeads: c.nKvHead, dModel: c.nEmbd, dFF: c.intermediateSize, vocab: c.vocabSize, context: c.blockSize,
      norm: 'rmsNorm', normEps: c.rmsNormEps, activation: 'silu', gated: true, positions: 'rope', ropeTheta: c.ropeTheta, headDim: c.headDim,
      ...(c.slidingWindow !== null ? { window: c.slidingWindow } : {}),
    };
  }

  /**
   * The weights by their place in the layout (the variables themselves, read
   * in place: q, k and v held apart as HF's three Linears; the head null when
   * tied), or null in training mode, where sessions decode through tfjs.
   */
  decoderWeights(): DecoderWeights | null {
    if (this.training) return null;
    const affine = (l: { weight: tf.Variable; bias: tf.Variable | null }): Affine => [l.weight, l.bias];
    const gain = (n: RMSNorm): Affine => [n.weight, null];
    return {
      embed: this.embed_tokens.weight,
      positions: null,
      normF: gain(this.norm),
      head: this.lm_head ? this.lm_head.weight : null,
      layers: [...this.layers].map((l) => ({
        norm1: gain(l.input_layernorm),
        qkv: { q: affine(l.self_attn.q_proj), k: affine(l.self_attn.k_proj), v: affine(l.self_attn.v_proj) },
        proj: affine(l.self_attn.o_proj),
        norm2: gain(l.post_attention_layernorm),
        up: affine(l.mlp.up_proj),
        gate: affine(l.mlp.gate_proj),
        down: affine(l.mlp.down_proj),
      })),
    };
  }

  /** A decoding session for @tx/generate: feeds ids, returns the next token's logits (blocks' GPTSession, which needs only SessionModel). */
  startSession(options: SessionOptions = {}): GPTSession {
    return new GPTSession(this, options);
  }
}
