// A small GPT, nanoGPT's model.py in tfjs, with nanoGPT's parameter names
// (transformer.wte.weight, transformer.h.0.attn.c_attn.weight, lm_head.weight)
// so that checkpoints from `tx train` / `tx export` and nanoGPT load as they are.
//
// STAND-IN: @tx/blocks' GPT had not landed when the demo was written. This
// file keeps the site working with real, trained models until it does; it is
// deliberately tiny (no dropout, no KV cache) and should be replaced by an
// adapter over @tx/blocks. The forward can return every layer's attention
// weights and Q, K, V, which the views need.
import { Linear, Module, ModuleList, Rng, matMul2d, randomNormal, tf } from '@tx/core';

export interface GPTConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

/** nanoGPT's config names (n_layer, ...) or ours: both are accepted in config.json. */
export function readGPTConfig(raw: Record<string, unknown>): GPTConfig {
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof raw[k] === 'number') return raw[k] as number;
    throw new Error(`config.json: model field ${keys.join(' / ')} is missing`);
  };
  return {
    vocabSize: pick('vocabSize', 'vocab_size'),
    blockSize: pick('blockSize', 'block_size', 'contextLength'),
    nLayer: pick('nLayer', 'n_layer'),
    nHead: pick('nHead', 'n_head'),
    nEmbd: pick('nEmbd', 'n_embd'),
  };
}

class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(n: number) {
    super();
    this.weight = this.param('weight', tf.ones([n]));
    this.bias = this.param('bias', tf.zeros([n]));
  }
  // x: [..., C]
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), this.weight), this.bias);
    });
  }
}

class Embedding extends Module {
  readonly weight: tf.Variable;
  constructor(readonly n: number, dim: number, rng: Rng) {
    super();
    this.weight = this.param('weight', randomNormal([n, dim], rng, { std: 0.02 }));
  }
  // ids: [N] -> [N, C]; one-hot x matMul: tf.gather has no gradient on wasm (GUIDE §3).
  forward(ids: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => matMul2d(tf.oneHot(ids, this.n).toFloat() as tf.Tensor2D, this.weight as tf.Tensor2D));
  }
}

export interface LayerTrace {
  /** [B, H, T, T] */
  attention: tf.Tensor4D;
  /** [B, H, T, D] each */
  q: tf.Tensor4D;
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  constructor(private readonly cfg: GPTConfig, rng: Rng) {
    super();
    this.c_attn = this.module('c_attn', new Linear(cfg.nEmbd, 3 * cfg.nEmbd, { rng }));
    this.c_proj = this.module('c_proj', new Linear(cfg.nEmbd, cfg.nEmbd, { rng, std: 0.02 / Math.sqrt(2 * cfg.nLayer) }));
  }
  // x: [B, T, C] -> [B, T, C]
  forward(x: tf.Tensor3D, trace?: LayerTrace[]): tf.Tensor3D {
    const [B, T, C] = x.shape;
    const H = this.cfg.nHead, D = C / H;
    const qkv = this.c_attn.forward(x) as tf.Tensor3D;
    const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(qkv, 3, -1).map(heads);
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    let att = tf.div(tf.matMul(q, k, false, true), Math.sqrt(D));
    att = tf.add(att, tf.mul(tf.sub(1, mask), -1e9));
    const weights = tf.softmax(att, -1) as tf.Tensor4D;
    if (trace) trace.push({ attention: tf.keep(weights), q: tf.keep(q), k: tf.keep(k), v: tf.keep(v) });
    const y = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [B, T, C]);
    return this.c_proj.forward(y) as tf.Tensor3D;
  }
}

class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.c_fc = this.module('c_fc', new Linear(cfg.nEmbd, 4 * cfg.nEmbd, { rng }));
    this.c_proj = this.module('c_proj', new Linear(4 * cfg.nEmbd, cfg.nEmbd, { rng, std: 0.02 / Math.sqrt(2 * cfg.nLayer) }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.c_proj.forward(gelu(this.c_fc.forward(x)));
  }
}

/** GELU, tanh approximation (GPT-2's). */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))));
}

class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.ln_1 = this.module('ln_1', new LayerNorm(cfg.nEmbd));
    this.attn = this.module('attn', new CausalSelfAttention(cfg, rng));
    this.ln_2 = this.module('ln_2', new LayerNorm(cfg.nEmbd));
    this.mlp = this.module('mlp', new MLP(cfg, rng));
  }
  forward(x: tf.Tensor3D, trace?: LayerTrace[]): tf.Tensor3D {
    const a = tf.add(x, this.attn.forward(this.ln_1.forward(x) as tf.Tensor3D, trace)) as tf.Tensor3D;
    return tf.add(a, this.mlp.forward(this.ln_2.forward(a))) as tf.Tensor3D;
  }
}

class Transformer extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.wte = this.module('wte', new Embedding(cfg.vocabSize, cfg.nEmbd, rng));
    this.wpe = this.module('wpe', new Embedding(cfg.blockSize, cfg.nEmbd, rng));
    this.h = this.module('h', new ModuleList<Block>());
    for (let i = 0; i < cfg.nLayer; i++) this.h.push(new Block(cfg, rng));
    this.ln_f = this.module('ln_f', new LayerNorm(cfg.nEmbd));
  }
}

export class GPT extends Module {
  readonly transformer: Transformer;
  readonly lm_head: Linear;

  constructor(readonly config: GPTConfig, rng = new Rng(1337)) {
    super();
    if (config.nEmbd % config.nHead !== 0) throw new Error(`n_embd ${config.nEmbd} is not divisible by n_head ${config.nHead}`);
    this.transformer = this.module('transformer', new Transformer(config, rng));
    this.lm_head = this.module('lm_head', new Linear(config.nEmbd, config.vocabSize, { rng, bias: false }));
  }

  // ids: [B*T] row-major -> logits [B, T, V]. With `trace`, each layer's attention and Q, K, V are pushed (kept).
  forward(ids: Int32Array | number[], B: number, T: number, trace?: LayerTrace[]): tf.Tensor3D {
    if (T > this.config.blockSize) throw new Error(`sequence of ${T} tokens is longer than the context (${this.config.blockSize})`);
    return tf.tidy(() => {
      const C = this.config.nEmbd;
      const tok = this.transformer.wte.forward(tf.tensor1d(Int32Array.from(ids), 'int32'));
      const pos = this.transformer.wpe.forward(tf.range(0, T, 1, 'int32') as tf.Tensor1D);
      let x = tf.add(tf.reshape(tok, [B, T, C]), pos) as tf.Tensor3D;
      for (const block of this.transformer.h) x = block.forward(x, trace);
      x = this.transformer.ln_f.forward(x) as tf.Tensor3D;
      return this.lm_head.forward(x) as tf.Tensor3D;
    });
  }

  /** Mean next-token cross-entropy of a batch. */
  loss(x: Int32Array, y: Int32Array, B: number, T: number): tf.Scalar {
    return tf.tidy(() => {
      const logits = tf.reshape(this.forward(x, B, T), [B * T, this.config.vocabSize]);
      const logp = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(y, 'int32'), this.config.vocabSize).toFloat()), -1);
      return tf.neg(tf.mean(picked)) as tf.Scalar;
    });
  }
}
