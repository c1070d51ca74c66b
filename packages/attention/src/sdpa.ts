// Scaled dot-product attention, "Attention Is All You Need" eq. (1):
//
//   Attention(Q, K, V) = softmax(Q Kᵀ / sqrt(d_k)) V
//
// with masks (see masks.ts), grouped-query heads (fewer K/V heads than query
// heads: head j uses K/V head floor(j / (h / hk)), as PyTorch's repeat_interleave),
// dropout on the attention probabilities, and the probabilities themselves on request.
//
// Plain causal or full attention (no other mask, no dropout, probabilities not
// asked for) is @tx/core's attention op, which on wasm is one fused kernel
// each way and never builds the [B, h, Tq, Tk] scores; everything else takes
// the tfjs ops below, whose batched products the kernels also run at full speed.
import { ShapeError, attention, dropout as dropoutMask, formatShape, tf, tidy, type Rng } from '@tx/core';
import { scoreBias, type MaskOptions } from './masks.js';

/** Options of scaledDotProductAttention: masks, the scale, dropout on the attention probabilities, and whether to return them. */
export interface AttentionOptions extends MaskOptions {
  /** Multiplies the scores (default 1 / sqrt(d_k)). */
  scale?: number;
  /** Dropout on the attention probabilities (training only), masks drawn from `rng`. */
  dropout?: { p: number; rng: Rng };
  /** Also return the attention probabilities [B, h, Tq, Tk] (before dropout). */
  returnAttention?: boolean;
  /** @deprecated Use `returnAttention` (the same flag; this name goes in the next minor release). */
  returnWeights?: boolean;
}

/** What scaledDotProductAttention returns: the output, and the attention probabilities when asked for. */
export interface AttentionResult {
  /** [B, h, Tq, dv] (or [B, Tq, dv] for 3-D inputs). */
  output: tf.Tensor;
  /** The attention probabilities [B, h, Tq, Tk] (or [B, Tq, Tk]) when returnAttention was set, else null. */
  attention: tf.Tensor | null;
  /** @deprecated Use `attention` (the same tensor; this name goes in the next minor release). */
  weights: tf.Tensor | null;
}

/** Whether a call asks for the attention probabilities: `returnAttention`, or its deprecated name `returnWeights`. */
export function wantsAttention(options: { returnAttention?: boolean; returnWeights?: boolean }): boolean {
  return options.returnAttention === true || options.returnWeights === true;
}

/** Plain causal or full attention (no other mask, no dropout, no probabilities asked for): what the fused kernels do. */
export function isPlain(options: AttentionOptions): boolean {
  return !options.mask && !options.keyPaddingMask && !options.bias && options.window == null && !options.dropout && !wantsAttention(options);
}

/**
 * softmax(q kᵀ * scale + masks) v, and the attention probabilities when asked for (`returnAttention: true` types them as a tensor, not null).
 * q: [B, h, Tq, d], k: [B, hk, Tk, d], v: [B, hk, Tk, dv] with h % hk == 0; or all 3-D [B, T, d] (one head).
 */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions & { returnAttention: true }): AttentionResult & { attention: tf.Tensor; weights: tf.Tensor };
/** @deprecated Use `returnAttention: true` and the result's `attention`. */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions & { returnWeights: true }): AttentionResult & { attention: tf.Tensor; weights: tf.Tensor };
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options?: AttentionOptions): AttentionResult;
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions = {}): AttentionResult {
  const threeD = q.rank === 3;
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank !== (threeD ? 3 : 4)) {
      throw new ShapeError(`scaledDotProductAttention: ${name} must be [B, h, T, d] (or [B, T, d] like q), found shape ${formatShape(t.shape)}`);
    }
  }
  // 3-D inputs are one head: [B, T, d] -> [B, 1, T, d]
  const dims = (t: tf.Tensor): number[] => (threeD ? [t.shape[0], 1, t.shape[1], t.shape[2]] : t.shape) as number[];
  const [B, h, Tq, d] = dims(q);
  const [Bk, hk, Tk, dk] = dims(k);
  const [Bv, hv, Tv] = dims(v);
  const shapes = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (Bk !== B || Bv !== B) throw new ShapeError(`scaledDotProductAttention: batch sizes differ: ${shapes}`);
  if (dk !== d) throw new ShapeError(`scaledDotProductAttention: q and k must have the same last axis d_k: ${shapes}`);
  if (Tv !== Tk || hv !== hk) throw new ShapeError(`scaledDotProductAttention: k and v must have the same heads and length: ${shapes}`);
  if (h % hk !== 0) throw new ShapeError(`scaledDotProductAttention: q's ${h} heads are not a multiple of k's ${hk}: ${shapes}`);

  return tidy((): AttentionResult => {
    let [q4, k4, v4] = threeD ? [q, k, v].map((t) => tf.expandDims(t, 1)) : [q, k, v];
    if (hk !== h) [k4, v4] = [repeatHeads(k4, h / hk), repeatHeads(v4, h / hk)];
    const scale = options.scale ?? 1 / Math.sqrt(d);
    if (isPlain(options)) {
      const output = attention(q4, k4, v4, { scale, causal: options.causal === true });
      return { output: threeD ? tf.squeeze(output, [1]) : output, attention: null, weights: null };
    }
    // [B, h, Tq, d] x [B, h, d, Tk] -> [B, h, Tq, Tk]
    let scores = tf.matMul(tf.mul(q4, scale), tf.transpose(k4, [0, 1, 3, 2]));
    const { additive, rowVisible } = scoreBias(B, h, Tq, Tk, options);
    if (additive) scores = tf.add(scores, additive);
    let probs = tf.softmax(scores);
    if (rowVisible) probs = tf.mul(probs, rowVisible);
    const used = options.dropout ? dropoutMask(probs, options.dropout.p, options.dropout.rng) : probs;
    let output = tf.matMul(used, v4); // [B, h, Tq, dv]
    if (threeD) {
      output = tf.squeeze(output, [1]);
      probs = tf.squeeze(probs, [1]);
    }
    const asked = wantsAttention(options) ? probs : null;
    return { output, attention: asked, weights: asked };
  });
}

/**
 * [B, hk, T, d] -> [B, hk * n, T, d], each head repeated n times in place (0,0,..,1,1,..),
 * as Hugging Face's repeat_kv. By concatenation, not a broadcast: on wasm tfjs
 * broadcasts with its Tile kernel, and for llama-mini's keys ([12, 2, 64, 32],
 * n = 2) a forward took 9.2 ms by broadcast and 0.09 ms by concat, forward and
 * backward 14.6 and 0.32 ms (medians, one interleaved run on a loaded machine).
 */
export function repeatHeads(x: tf.Tensor, n: number): tf.Tensor {
  if (n === 1) return x;
  const [B, hk, T, d] = x.shape;
  const one = tf.reshape(x, [B, hk, 1, T * d]);
  return tf.reshape(tf.concat(Array.from({ length: n }, () => one), 2), [B, hk * n, T, d]);
}
