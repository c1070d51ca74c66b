// GPT: a decoder-only Transformer with nanoGPT's architecture and names.
//
//   transformer.wte   token embedding [V, C] (also the output layer: lm_head is tied to it)
//   transformer.wpe   learned positions [blockSize, C]
//   transformer.h.i   GPTBlock: ln_1, attn (c_attn, c_proj), ln_2, mlp (c_fc, c_proj)
//   transformer.ln_f  final LayerNorm
//   logits = ln_f(x) · wteᵀ
import { Module, ModuleList, Rng, ShapeError, StateDictError, matMul2d, tf } from '@tx/core';
import { tidy } from './tidy.js';
import type { StateDict } from '@tx/core';
import { LearnedPositionalEmbedding } from '@tx/positional';
import { GPTBlock, ModuleDict } from './blocks.js';
import { checkGPTConfig } from './config.js';
import type { GPTConfig } from './config.js';
import { Dropout } from './dropout.js';
import { GPTDecoder } from './decoder.js';
import { Embedding } from './embedding.js';
import { checkIds, toIdTensor } from './ids.js';
import type { TokenIds } from './ids.js';
import { GPTCache } from './kv-cache.js';
import { LayerNorm } from './norm.js';

export interface GPTOptions {
  /** Initial weights, then dropout masks (default new Rng(1337)). Save its state to resume a run exactly. */
  rng?: Rng;
}

export interface GPTForwardOptions {
  /** Also return every layer's attention weights. */
  returnAttention?: boolean;
  /**
   * Cached decoding (from model.createCache()): ids continue the sequence held
   * in the cache, which is updated. Past blockSize tokens the cache slides and
   * new tokens reuse the last position (an approximation); GPTDecoder avoids
   * that by restarting the cache from a recomputed window.
   */
  cache?: GPTCache;
}

export interface GPTOutput {
  /** [B, T, vocabSize] */
  logits: tf.Tensor3D;
  /** One [B, nHead, T, Tk] tensor per layer, when asked for. */
  attention?: tf.Tensor4D[];
}

export class GPT extends Module {
  readonly config: Readonly<GPTConfig>;
  readonly transformer: ModuleDict;
  readonly wte: Embedding;
  readonly wpe: LearnedPositionalEmbedding;
  readonly h: ModuleList<GPTBlock>;
  readonly ln_f: LayerNorm;
  readonly drop: Dropout;
  readonly rng: Rng;

  constructor(config: GPTConfig, { rng = new Rng(1337) }: GPTOptions = {}) {
    super();
    checkGPTConfig(config);
    this.config = Object.freeze({ ...config });
    const { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias, activation } = config;
    this.rng = rng;
    this.transformer = this.module('transformer', new ModuleDict());
    this.wte = this.transformer.add('wte', new Embedding(vocabSize, nEmbd, { rng }));
    this.wpe = this.transformer.add('wpe', new LearnedPositionalEmbedding(blockSize, nEmbd, { rng }));
    this.drop = this.transformer.add('drop', new Dropout(dropout, rng));
    const projStd = 0.02 / Math.sqrt(2 * nLayer);
    const blocks = Array.from({ length: nLayer }, () => new GPTBlock(nEmbd, { nHead, bias, dropout, activation, rng, projStd }));
    this.h = this.transformer.add('h', new ModuleList(blocks));
    this.ln_f = this.transformer.add('ln_f', new LayerNorm(nEmbd, { bias }));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get contextLength(): number {
    return this.config.blockSize;
  }

  // ids: [B, T] (or [T], read as [1, T]) -> logits [B, T, vocabSize]
  forward(ids: TokenIds, { returnAttention = false, cache }: GPTForwardOptions = {}): GPTOutput {
    const idTensor = toIdTensor(ids);
    try {
      if (idTensor.rank !== 1 && idTensor.rank !== 2) throw new ShapeError(`GPT: ids must be [B, T] or [T], found shape [${idTensor.shape.join(', ')}]`);
      const [B, T] = idTensor.rank === 1 ? [1, idTensor.shape[0]] : idTensor.shape;
      if (T > this.config.blockSize) {
        throw new ShapeError(`GPT: a sequence of ${T} tokens is longer than the context (blockSize ${this.config.blockSize})`);
      }
      // Positions of the new tokens: after the cached ones, clamped to the table once the window slides.
      const offset = Math.min(cache?.position ?? 0, this.config.blockSize - T);
      checkIds(ids, this.config.vocabSize, 'GPT');
      const out = tidy(() => {
        const tok = this.wte.forward(tf.reshape(idTensor, [B, T]), { checked: true }); // [B, T, C]
        let x = this.drop.forward(tf.add(tok, this.wpe.forward(T, offset)));
        const attention: tf.Tensor4D[] = [];
        [...this.h].forEach((block, i) => {
          const o = block.forward(x, { returnAttention, cache: cache?.layers[i] });
          x = o.y;
          if (o.attention) attention.push(o.attention as tf.Tensor4D);
        });
        const logits = this.lmHead(this.ln_f.forward(x));
        return { logits, attention };
      });
      return returnAttention ? { logits: out.logits, attention: out.attention } : { logits: out.logits };
    } finally {
      if (idTensor !== ids) idTensor.dispose();
    }
  }

  // x: [B, T, C] -> [B, T, V], the output layer tied to wte: x · wteᵀ
  lmHead(x: tf.Tensor): tf.Tensor3D {
    return tidy(() => {
      const [B, T, C] = x.shape;
      const logits = matMul2d(tf.reshape(x, [B * T, C]) as tf.Tensor2D, tf.transpose(this.wte.weight) as tf.Tensor2D);
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
      const same = head.shape.join() === wte.shape.join() && tf.tidy(() => tf.all(tf.equal(head, wte)).dataSync()[0] === 1);
      if (!same) throw new StateDictError('state dict does not fit GPT: lm_head.weight differs from transformer.wte.weight, but GPT ties them');
    } else if (head) {
      rest['transformer.wte.weight'] = head;
    }
    super.loadStateDict(rest, options);
  }

  /** An empty KV cache for forward(ids, { cache }). */
  createCache(): GPTCache {
    return new GPTCache(this.config.nLayer, this.config.blockSize);
  }

  /** A decoder for @tx/generate: feeds ids, returns the next token's logits (see decoder.ts). */
  startDecoder(options: { cache?: boolean; attention?: boolean } = {}): GPTDecoder {
    return new GPTDecoder(this, options);
  }
}
