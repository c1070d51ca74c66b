// The original Transformer ("Attention Is All You Need"): an encoder stack
// over the source, a decoder stack over the target that also attends to the
// encoder output, and a final linear layer (softmax it for probabilities).
//
//   embed (or src_embed, tgt_embed)   ids -> vectors, scaled by √dModel, plus sinusoidal positions
//   encoder.h.i                        Block: ln_1, attn, ln_2, mlp
//   decoder.h.i                        Block (causal, cross): ln_1, attn, ln_2, cross_attn, ln_3, mlp
//   encoder.ln_f, decoder.ln_f         pre-norm only
//   lm_head                            only when not tied to the target embedding
import { Dropout, Linear, Module, ModuleDict, ModuleList, Rng, ShapeError, formatShape, matMul2d, tf, tidy } from '@tx/core';
import { KVCache } from '@tx/attention';
import { conditionOn, type ConditionedModel } from '../decoding/conditioned.js';
import { Block } from '../layers/block.js';
import { Embedding, SinusoidalInput } from '../layers/embedding.js';
import { LayerNorm } from '../layers/norm.js';
import { checkEncoderDecoderConfig, type EncoderDecoderConfig } from './config.js';

/** What EncoderDecoderTransformer.forward returns: the logits, and the encoder, decoder and cross attention when asked for. */
export interface EncoderDecoderOutput {
  /** [B, T, tgtVocabSize] */
  logits: tf.Tensor3D;
  /** When asked for: per layer, [B, h, S, S] encoder self, [B, h, T, T] decoder self, [B, h, T, S] cross. */
  attention?: { encoder: tf.Tensor4D[]; decoder: tf.Tensor4D[]; cross: tf.Tensor4D[] };
}

/** Per-call options of EncoderDecoderTransformer.forward: source padding, and whether to return the attention. */
export interface EncoderDecoderCall {
  returnAttention?: boolean;
  /** Bool [B, S], true = padding in the source (no query attends to it). */
  srcPaddingMask?: tf.Tensor;
}

/** Per-layer caches for step-by-step decoding: self-attention keys/values, and the encoder's (cross). */
export interface EncoderDecoderCache {
  /** Self-attention keys and values of the target so far; without them each call reads the whole target. */
  self?: KVCache[];
  /** The encoder output's keys and values, made by the first call and reused by every later step (they never change). */
  cross: KVCache[];
}

/** The Transformer of "Attention Is All You Need": encoder, decoder with cross-attention, embeddings scaled by √dModel plus sinusoidal positions. */
export class EncoderDecoderTransformer extends Module {
  readonly config: Readonly<EncoderDecoderConfig>;
  readonly srcEmbed: Embedding;
  readonly tgtEmbed: Embedding;
  readonly encoder: ModuleDict;
  readonly decoder: ModuleDict;
  readonly encoderBlocks: ModuleList<Block>;
  readonly decoderBlocks: ModuleList<Block>;
  readonly encoderNorm: LayerNorm | null = null;
  readonly decoderNorm: LayerNorm | null = null;
  readonly lm_head: Linear | null = null;
  readonly drop: Dropout;
  readonly rng: Rng;
  private readonly input: SinusoidalInput;

  constructor(config: EncoderDecoderConfig, { rng = new Rng(1337) }: { rng?: Rng } = {}) {
    super();
    checkEncoderDecoderConfig(config);
    this.config = Object.freeze({ ...config });
    const { srcVocabSize, tgtVocabSize, dModel, nHead, dFF, dropout, bias, norm, activation } = config;
    this.rng = rng;
    if (config.sharedEmbeddings) {
      this.srcEmbed = this.tgtEmbed = this.module('embed', new Embedding(srcVocabSize, dModel, { rng }));
    } else {
      this.srcEmbed = this.module('src_embed', new Embedding(srcVocabSize, dModel, { rng }));
      this.tgtEmbed = this.module('tgt_embed', new Embedding(tgtVocabSize, dModel, { rng }));
    }
    const blockOptions = { nHead, dFF, bias, dropout, norm, activation, rng };
    this.encoder = this.module('encoder', new ModuleDict());
    this.encoderBlocks = this.encoder.add('h', new ModuleList(Array.from({ length: config.nEncoderLayer }, () => new Block(dModel, blockOptions))));
    this.decoder = this.module('decoder', new ModuleDict());
    this.decoderBlocks = this.decoder.add('h', new ModuleList(Array.from({ length: config.nDecoderLayer }, () => new Block(dModel, { ...blockOptions, causal: true, cross: true }))));
    if (norm === 'pre') {
      this.encoderNorm = this.encoder.add('ln_f', new LayerNorm(dModel, { bias }));
      this.decoderNorm = this.decoder.add('ln_f', new LayerNorm(dModel, { bias }));
    }
    if (!config.tieOutput) this.lm_head = this.module('lm_head', new Linear(dModel, tgtVocabSize, { bias: false, rng }));
    this.drop = this.module('drop', new Dropout(dropout, rng));
    this.input = new SinusoidalInput(config.blockSize, dModel);
  }

  // src: int32 [B, S], tgt: int32 [B, T] (the target shifted right) -> logits [B, T, tgtVocabSize]
  forward(src: tf.Tensor, tgt: tf.Tensor, { returnAttention = false, srcPaddingMask }: EncoderDecoderCall = {}): EncoderDecoderOutput {
    const enc = this.encode(src, { returnAttention, srcPaddingMask });
    try {
      const dec = this.decode(tgt, enc.memory, { returnAttention, srcPaddingMask });
      if (!returnAttention) return { logits: dec.logits };
      return { logits: dec.logits, attention: { encoder: enc.attention!, decoder: dec.attention!.decoder, cross: dec.attention!.cross } };
    } finally {
      enc.memory.dispose();
    }
  }

  // src: int32 [B, S] -> memory [B, S, dModel]
  encode(src: tf.Tensor, { returnAttention = false, srcPaddingMask }: EncoderDecoderCall = {}): { memory: tf.Tensor3D; attention?: tf.Tensor4D[] } {
    this.checkIds(src, 'source');
    return tidy(() => {
      let x = this.embed(src, this.srcEmbed, 0);
      const attention: tf.Tensor4D[] = [];
      for (const block of this.encoderBlocks) {
        const o = block.forward(x, { returnAttention, keyPaddingMask: srcPaddingMask });
        x = o.y;
        if (o.attention) attention.push(o.attention as tf.Tensor4D);
      }
      const memory = (this.encoderNorm ? this.encoderNorm.forward(x) : x) as tf.Tensor3D;
      return returnAttention ? { memory, attention } : { memory };
    });
  }

  // tgt: int32 [B, T], memory: [B, S, dModel] -> logits [B, T, tgtVocabSize]. With a cache, tgt continues the cached prefix.
  decode(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    { returnAttention = false, srcPaddingMask, cache }: EncoderDecoderCall & { cache?: EncoderDecoderCache } = {},
  ): { logits: tf.Tensor3D; attention?: { decoder: tf.Tensor4D[]; cross: tf.Tensor4D[] } } {
    this.checkIds(tgt, 'target');
    return tidy(() => {
      const offset = cache?.self?.[0]?.position ?? 0;
      let x = this.embed(tgt, this.tgtEmbed, offset);
      const Tq = tgt.shape[1]!;
      const decoder: tf.Tensor4D[] = [];
      const cross: tf.Tensor4D[] = [];
      [...this.decoderBlocks].forEach((block, i) => {
        const o = block.forward(x, { memory, returnAttention, memoryPaddingMask: srcPaddingMask, cache: cache?.self?.[i], crossCache: cache?.cross[i] });
        x = o.y;
        if (o.attention) decoder.push(o.attention as tf.Tensor4D);
        if (o.crossAttention) cross.push(o.crossAttention as tf.Tensor4D);
      });
      if (this.decoderNorm) x = this.decoderNorm.forward(x);
      const [B, T, C] = x.shape;
      const flat = tf.reshape(x, [B * T, C]) as tf.Tensor2D;
      const out = this.lm_head ? this.lm_head.forward(flat) : matMul2d(flat, tf.transpose(this.tgtEmbed.weight) as tf.Tensor2D);
      const logits = tf.reshape(out, [B, T, this.config.tgtVocabSize]) as tf.Tensor3D;
      return returnAttention ? { logits, attention: { decoder, cross } } : { logits };
    });
  }

  /**
   * This model with its source encoded: a decoder-only model for @tx/generate
   * (generate, streamTokens, beamSearch). Dispose it when done.
   */
  conditionOn(sourceIds: readonly number[], options: { padId?: number } = {}): ConditionedModel {
    return conditionOn(this, sourceIds, options);
  }

  /** Empty caches for step-by-step decoding with decode(tgt, memory, { cache }). */
  createCache({ self = true }: { self?: boolean } = {}): EncoderDecoderCache {
    const caches = () => Array.from({ length: this.config.nDecoderLayer }, () => new KVCache());
    return self ? { self: caches(), cross: caches() } : { cross: caches() };
  }

  override dispose(): void {
    super.dispose();
    this.input.dispose();
  }

  // ids: [B, T] -> embed(ids) · √dModel + PE[offset .. offset + T], then dropout
  private embed(ids: tf.Tensor, table: Embedding, offset: number): tf.Tensor {
    const T = ids.shape[1]!;
    if (offset + T > this.config.blockSize) {
      throw new ShapeError(`EncoderDecoderTransformer: positions ${offset}..${offset + T - 1} are past blockSize ${this.config.blockSize}`);
    }
    return this.drop.forward(this.input.forward(table.forward(ids), offset));
  }

  private checkIds(ids: tf.Tensor, what: string): void {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ShapeError(`EncoderDecoderTransformer: ${what} ids must be int32 [B, T], found ${ids.dtype} ${formatShape(ids.shape)}`);
    if (ids.shape[1]! > this.config.blockSize) {
      throw new ShapeError(`EncoderDecoderTransformer: a ${what} sequence of ${ids.shape[1]} tokens is longer than blockSize ${this.config.blockSize}`);
    }
  }
}
