// GPT-2 as Hugging Face stores it (config.json and model.safetensors of a
// GPT2LMHeadModel), to and from our GPT. The architectures are the same as
// nanoGPT's, with four differences in the files:
//   - names may lack the "transformer." prefix (the original gpt2 upload);
//   - c_attn, c_proj and c_fc are Conv1D, whose weight is [in, out]: the
//     transpose of a Linear's [out, in] (what nanoGPT's from_pretrained does);
//   - attn.bias and attn.masked_bias are causal-mask buffers, not parameters;
//   - lm_head.weight is usually absent: it is tied to wte.
// "gelu_new" is GPT-2's tanh GELU.
import { TxError, tf, type StateDict } from '@tx/core';
import { checkGPTConfig, type Activation, type GPTConfig } from './config.js';
import type { GPT } from './gpt.js';

const CONV1D = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
const BUFFER = /\.attn\.(bias|masked_bias)$/;
const ACTIVATIONS: Record<string, Activation> = { gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu: 'gelu', relu: 'relu' };

/** A GPTConfig from a GPT-2 config.json; anything GPT-2-shaped we cannot run is one error naming the field. */
export function gptConfigFromHuggingFace(raw: unknown, where = 'config.json'): GPTConfig {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new TxError(`${where}: ${message}`);
  };
  const architectures = Array.isArray(c.architectures) ? c.architectures : [];
  if (c.model_type !== 'gpt2' && !architectures.some((a) => a === 'GPT2LMHeadModel' || a === 'GPT2Model')) {
    fail(`unsupported architecture ${JSON.stringify(architectures[0] ?? c.model_type)} (model_type ${JSON.stringify(c.model_type)}): tx imports GPT-2 (model_type "gpt2")`);
  }
  const activation = ACTIVATIONS[String(c.activation_function ?? 'gelu_new')];
  if (!activation) fail(`activation_function ${JSON.stringify(c.activation_function)} is not supported (gelu_new, gelu, relu)`);
  const nEmbd = c.n_embd as number;
  if (c.n_inner !== undefined && c.n_inner !== null && c.n_inner !== 4 * nEmbd) fail(`n_inner ${JSON.stringify(c.n_inner)} is not supported (only 4 x n_embd = ${4 * nEmbd})`);
  for (const flag of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn', 'add_cross_attention']) {
    if (c[flag] === true) fail(`${flag} is not supported`);
  }
  if (c.scale_attn_weights === false) fail('scale_attn_weights false is not supported');
  const config: GPTConfig = {
    vocabSize: c.vocab_size as number,
    blockSize: c.n_positions as number,
    nLayer: c.n_layer as number,
    nHead: c.n_head as number,
    nEmbd,
    dropout: 0, // inference; GPT-2's *_pdrop are for training
    bias: true,
    activation,
    layerNormEps: (c.layer_norm_epsilon as number | undefined) ?? 1e-5,
  };
  try {
    checkGPTConfig(config);
  } catch (err) {
    fail((err as Error).message);
  }
  return config;
}

/**
 * A GPT-2 state dict in our (nanoGPT's) names and layout: "transformer."
 * added where missing, Conv1D weights transposed, buffers left out. The
 * transposed tensors are new (the caller disposes them with the rest); the
 * others are the given tensors. lm_head.weight, when present, is kept: GPT
 * checks it equals wte.
 */
export function gptStateDictFromHuggingFace(tensors: StateDict): StateDict {
  const out: StateDict = Object.create(null);
  for (const [name, t] of Object.entries(tensors)) {
    if (BUFFER.test(name)) continue;
    const ours = name === 'lm_head.weight' || name.startsWith('transformer.') ? name : `transformer.${name}`;
    out[ours] = CONV1D.test(ours) ? tf.transpose(t) : t;
  }
  return out;
}

/**
 * The model as GPT2LMHeadModel.save_pretrained writes it: config.json's
 * fields and the tensors (Conv1D weights [in, out], "transformer." names,
 * lm_head left out as tied). A model without biases gets zero biases, which
 * GPT-2 always has. The tensors are new: dispose them.
 */
export function huggingFaceFromGPT(model: GPT): { config: Record<string, unknown>; tensors: StateDict } {
  const c = model.config;
  const names: Record<Activation, string> = { gelu_tanh: 'gelu_new', gelu: 'gelu', relu: 'relu' };
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_ctx: c.blockSize,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: names[c.activation ?? 'gelu'],
    layer_norm_epsilon: c.layerNormEps ?? 1e-5,
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: c.dropout,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    use_cache: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
  };
  const sd = model.stateDict();
  const tensors: StateDict = Object.create(null);
  for (const [name, t] of Object.entries(sd)) {
    if (name === 'lm_head.weight') {
      t.dispose();
      continue;
    }
    tensors[name] = CONV1D.test(name) ? tf.transpose(t) : t;
    if (tensors[name] !== t) t.dispose();
  }
  if (!c.bias) {
    // GPT-2 has a bias beside every weight of a Linear (Conv1D) and LayerNorm.
    for (const [name, t] of Object.entries(tensors)) {
      const bias = name.replace(/\.weight$/, '.bias');
      if (bias !== name && !tensors[bias] && !/\.(wte|wpe)\./.test(name)) tensors[bias] = tf.zeros([(CONV1D.test(name) ? t.shape[1] : t.shape[0])!]);
    }
  }
  return { config, tensors };
}
