// An encoder-only Transformer that points: the explainer's "The animal didn't
// cross the street because it was too tired": which word does "it" mean?
//
//   embed     token embedding [V, dModel], scaled by √dModel, plus the paper's
//             sinusoidal positions (@tx/positional), then dropout
//   h.i       Block (non-causal: every token sees the whole sentence, so "it"
//             can look ahead to "tired"): ln_1, attn, ln_2, mlp
//   ln_f      pre-norm only
//
// The pointer is not a layer of its own: it is one attention head, config
// pointerHead = [layer, head]. From the query token p (the pronoun) it scores
// every key j exactly as that head does,
//
//   pointer_j = q_p · k_j / √d_k   (+ BLOCKED where j is padding)
//
// with q and k that head's own queries and keys. So softmax(pointer) is that
// head's attention row from p, to the last bit: training the pointer with
// cross-entropy against the referent's position trains the head's attention to
// shine on the referent, and the light the site draws is the answer itself.
import { Dropout, Module, ModuleList, Rng, ShapeError, formatShape, tf, tidy } from '@tx/core';
import { BLOCKED } from '@tx/attention';
import { Block } from '../layers/block.js';
import { Embedding, SinusoidalInput } from '../layers/embedding.js';
import { LayerNorm } from '../layers/norm.js';
import { checkEncoderConfig, type EncoderConfig } from './config.js';
import type { LayerQKV } from './gpt.js';

/** Per-call options of Encoder.forward: the query position, padding, and what to return. */
export interface EncoderCall {
  /** int32 [B]: the query token's position in each sequence (the pronoun). With it, the output has `pointer`. */
  query?: tf.Tensor | null;
  /** bool [B, T], true = padding: no token attends to it, and the pointer never points at it. */
  paddingMask?: tf.Tensor | null;
  /** Also return every layer's attention probabilities. */
  returnAttention?: boolean;
  /** Also return every layer's Q, K and V. */
  returnQKV?: boolean;
}

/** What Encoder.forward returns: the hidden states, the pointer's logits, and the attention when asked for. */
export interface EncoderOutput {
  /** [B, T, dModel]: the encoder's output (after ln_f for pre-norm). */
  hidden: tf.Tensor3D;
  /** [B, T]: the pointer's logits over positions, when a query was given. softmax = pointerHead's attention row. */
  pointer?: tf.Tensor2D;
  /** One [B, nHead, T, T] tensor per layer, when asked for. */
  attention?: tf.Tensor4D[];
  /** Per layer, Q, K, V [B, nHead, T, d], when asked for. */
  qkv?: LayerQKV[];
}

/** An encoder-only Transformer (non-causal Blocks) whose pointer head says which token a query token refers to. */
export class Encoder extends Module {
  readonly config: Readonly<EncoderConfig>;
  readonly embed: Embedding;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm | null = null;
  readonly drop: Dropout;
  readonly rng: Rng;
  private readonly input: SinusoidalInput;

  constructor(config: EncoderConfig, { rng = new Rng(1337) }: { rng?: Rng } = {}) {
    super();
    checkEncoderConfig(config);
    this.config = Object.freeze({ ...config, pointerHead: [...config.pointerHead] as [number, number] });
    const { vocabSize, dModel, nHead, dFF, dropout, bias, norm, activation } = config;
    this.rng = rng;
    this.embed = this.module('embed', new Embedding(vocabSize, dModel, { rng }));
    const blocks = Array.from({ length: config.nLayer }, () => new Block(dModel, { nHead, dFF, bias, dropout, norm, activation, rng, causal: false }));
    this.h = this.module('h', new ModuleList(blocks));
    if (norm === 'pre') this.ln_f = this.module('ln_f', new LayerNorm(dModel, { bias }));
    this.drop = this.module('drop', new Dropout(dropout, rng));
    this.input = new SinusoidalInput(config.blockSize, dModel);
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  // ids: int32 [B, T] -> hidden [B, T, dModel], and with a query: pointer logits [B, T]
  forward(ids: tf.Tensor, { query = null, paddingMask = null, returnAttention = false, returnQKV = false }: EncoderCall = {}): EncoderOutput {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ShapeError(`Encoder: ids must be int32 [B, T], found ${ids.dtype} ${formatShape(ids.shape)}`);
    const [B, T] = ids.shape as [number, number];
    if (T > this.config.blockSize) throw new ShapeError(`Encoder: a sequence of ${T} tokens is longer than blockSize ${this.config.blockSize}`);
    if (query && (query.rank !== 1 || query.shape[0] !== B || query.dtype !== 'int32')) {
      throw new ShapeError(`Encoder: query must be int32 [B] = [${B}] (one position per sequence), found ${query.dtype} ${formatShape(query.shape)}`);
    }
    const [pointerLayer, pointerHead] = this.config.pointerHead;
    return tidy(() => {
      let x = this.drop.forward(this.input.forward(this.embed.forward(ids))); // [B, T, C]
      const out: Required<Omit<EncoderOutput, 'hidden'>> = { attention: [], qkv: [], pointer: null as unknown as tf.Tensor2D };
      [...this.h].forEach((block, i) => {
        const points = query !== null && i === pointerLayer;
        const o = block.forward(x, { keyPaddingMask: paddingMask, returnAttention, returnQKV: returnQKV || points });
        x = o.y;
        if (o.attention) out.attention.push(o.attention as tf.Tensor4D);
        if (returnQKV) out.qkv.push(o.qkv as LayerQKV);
        if (points) out.pointer = this.point(o.qkv!.q, o.qkv!.k, query!, paddingMask, pointerHead);
      });
      const hidden = (this.ln_f ? this.ln_f.forward(x) : x) as tf.Tensor3D;
      return {
        hidden,
        ...(query ? { pointer: out.pointer } : {}),
        ...(returnAttention ? { attention: out.attention } : {}),
        ...(returnQKV ? { qkv: out.qkv } : {}),
      };
    });
  }

  // q, k: [B, h, T, d] of the pointer's layer; query: int32 [B] -> [B, T], q_p · k_j / √d (+ BLOCKED at padding)
  private point(q: tf.Tensor, k: tf.Tensor, query: tf.Tensor, paddingMask: tf.Tensor | null, head: number): tf.Tensor2D {
    const [B, , T, d] = q.shape;
    const qh = tf.reshape(tf.slice(q, [0, head, 0, 0], [B, 1, T, d]), [B, T, d]);
    const kh = tf.reshape(tf.slice(k, [0, head, 0, 0], [B, 1, T, d]), [B, T, d]);
    // The query row, picked by a one-hot product (tf.gather has no gradient on wasm): [B, 1, T] x [B, T, d] -> [B, 1, d]
    const pick = tf.reshape(tf.oneHot(query, T).toFloat(), [B, 1, T]);
    const qp = tf.matMul(pick, qh);
    // Scaled as scaledDotProductAttention scales: (q · 1/√d) kᵀ
    let scores = tf.reshape(tf.matMul(tf.mul(qp, 1 / Math.sqrt(d)), kh, false, true), [B, T]);
    if (paddingMask) scores = tf.add(scores, tf.mul(tf.cast(paddingMask, 'float32'), BLOCKED));
    return scores as tf.Tensor2D;
  }

  override dispose(): void {
    super.dispose();
    this.input.dispose();
  }
}
