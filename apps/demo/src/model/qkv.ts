// Each layer's queries, keys and values of a @tx/blocks GPT, for the "one
// token's arithmetic" view. Not a second model: the same modules the GPT's
// forward uses (wte, wpe, each block's ln_1 and attn.c_attn, then the block
// itself to reach the next layer's input), in eval mode (no dropout). The
// unit tests check that softmax(q·kᵀ/√d) from these equals the attention
// weights GPT.forward returns.
import type { GPT } from '@tx/blocks';
import { tf } from '@tx/core';

/** [B, nHead, T, headSize] each. (A type, not an interface: tf.tidy returns it.) */
export type LayerQKV = { q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D };

/** c_attn's output [B, T, 3C] (nanoGPT's fused W_Q | W_K | W_V) as three [B, h, T, d] tensors. */
export function splitHeads(qkv: tf.Tensor3D, nHead: number): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  return tf.tidy(() => {
    const [B, T, C3] = qkv.shape;
    const d = C3 / 3 / nHead;
    const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, nHead, d]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(qkv, 3, -1).map(heads);
    return [q, k, v];
  });
}

/** ids [B][T] (T <= blockSize) -> per layer, that layer's Q, K, V. The caller disposes them. */
export function gptQKV(model: GPT, ids: number[][]): LayerQKV[] {
  const B = ids.length, T = ids[0]?.length ?? 0;
  if (T === 0 || T > model.config.blockSize) throw new RangeError(`gptQKV: need 1..${model.config.blockSize} tokens per row, got ${T}`);
  return tf.tidy(() => {
    const idTensor = tf.tensor2d(ids.flat(), [B, T], 'int32');
    let x: tf.Tensor = tf.add(model.wte.forward(idTensor), model.wpe.forward(T, 0));
    const out: LayerQKV[] = [];
    for (const block of model.h) {
      const cAttn = block.attn.c_attn;
      if (!cAttn) throw new Error('gptQKV: the attention has no fused c_attn');
      const [q, k, v] = splitHeads(cAttn.forward(block.ln_1.forward(x)) as tf.Tensor3D, model.config.nHead);
      out.push({ q, k, v });
      x = block.forward(x).y;
    }
    return out;
  });
}
