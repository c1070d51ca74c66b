// The fused ops as @tx's packages call them. Each returns null when @tx's wasm
// kernels are off (another backend, or TX_KERNELS=off): the caller then runs
// its own tfjs composition, which stays the readable reference.
//
//   const y = fusedGelu(x) ?? composedGelu(x);
import { tf } from '../tf.js';
import { FUSED } from './fused.js';
import { kernelsActive } from './install.js';

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap);

const geluWith = (approximate: boolean) =>
  tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: run(FUSED.gelu, { x }, { approximate }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => run(FUSED.geluGrad, { x: sx, dy }, { approximate }) as tf.Tensor,
    };
  }) as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
const geluExact = geluWith(false);
const geluTanh = geluWith(true);

/**
 * GELU in one fused kernel, forward and backward: exact (x Φ(x)), or with
 * `approximate` GPT-2's tanh form. Null when @tx's wasm kernels are off.
 */
export function fusedGelu(x: tf.Tensor, approximate = false): tf.Tensor | null {
  if (!kernelsActive() || x.dtype !== 'float32') return null;
  return approximate ? geluTanh(x) : geluExact(x);
}

const layerNormWith = (eps: number, hasBias: boolean) =>
  tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, weight, bias] = args as tf.Tensor[];
    const [y, mean, rstd] = run(FUSED.layerNorm, hasBias ? { x, weight, bias } : { x, weight }, { eps }) as tf.Tensor[];
    save([x, weight, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sw, sMean, sRstd]: tf.Tensor[]) =>
        run(FUSED.layerNormGrad, { x: sx, weight: sw, mean: sMean, rstd: sRstd, dy }, { bias: hasBias }) as tf.Tensor[],
    };
  }) as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;

const layerNorms = new Map<string, ReturnType<typeof layerNormWith>>();

/**
 * LayerNorm over the last axis of x [N, C]: (x - mean) / √(var + eps) · weight (+ bias),
 * forward and backward one fused kernel each. Null when @tx's wasm kernels are off.
 */
export function fusedLayerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, eps: number): tf.Tensor | null {
  if (!kernelsActive() || x.rank !== 2 || x.dtype !== 'float32') return null;
  const key = `${eps}/${bias !== null}`;
  let f = layerNorms.get(key);
  if (!f) layerNorms.set(key, (f = layerNormWith(eps, bias !== null)));
  return bias ? f(x, weight, bias) : f(x, weight);
}

/** AdamW's numbers for one step, the same for every parameter (see @tx/train's AdamW for the formulas). */
export interface AdamWStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta2^t. */
  correction2: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
}

/** One parameter of a fused AdamW update: its tensors, and the factor weight decay multiplies it by (1 - lr · wd; 1 when it does not decay). */
export interface AdamWSlot {
  param: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  grad: tf.Tensor;
  decay: number;
}

/**
 * Every parameter's AdamW update in one fused call, gradient clipping
 * included: with `maxNorm` > 0 the gradients are first scaled by
 * min(1, maxNorm / (norm + 1e-6)), norm their global L2 norm (as torch's
 * clip_grad_norm_). Returns the new params, m's and v's in slot order and the
 * norm (computed either way). Null when the kernels are off.
 */
export function fusedAdamW(slots: readonly AdamWSlot[], s: AdamWStep, maxNorm = 0): { params: tf.Tensor[]; m: tf.Tensor[]; v: tf.Tensor[]; norm: tf.Scalar } | null {
  if (!kernelsActive() || slots.some((x) => x.param.dtype !== 'float32' || x.grad.dtype !== 'float32')) return null;
  const inputs: Record<string, tf.Tensor> = {};
  slots.forEach((x, i) => Object.assign(inputs, { [`p${i}`]: x.param, [`m${i}`]: x.m, [`v${i}`]: x.v, [`g${i}`]: x.grad }));
  const attrs = { count: slots.length, decays: slots.map((x) => x.decay), maxNorm, beta1: s.beta1, oneMinusBeta1: 1 - s.beta1, beta2: s.beta2, oneMinusBeta2: 1 - s.beta2, correction2: s.correction2, eps: s.eps, stepSize: s.stepSize };
  const out = run(FUSED.adamW, inputs, attrs) as tf.Tensor[];
  const n = slots.length;
  return { params: out.slice(0, n), m: out.slice(n, 2 * n), v: out.slice(2 * n, 3 * n), norm: out[3 * n] as tf.Scalar };
}

const attentionWith = (scale: number, causal: boolean) =>
  tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = run(FUSED.attention, { q, k, v }, { scale, causal }) as tf.Tensor[];
    save([q, k, v, out, lse]);
    return {
      value: out,
      gradFunc: (dout: tf.Tensor, [sq, sk, sv, sOut, sLse]: tf.Tensor[]) =>
        run(FUSED.attentionGrad, { q: sq, k: sk, v: sv, out: sOut, lse: sLse, dout }, { scale, causal }) as tf.Tensor[],
    };
  }) as Parameters<typeof tf.customGrad>[0]) as unknown as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
const attentions = new Map<string, ReturnType<typeof attentionWith>>();

/**
 * softmax(q kᵀ · scale) v in one fused kernel each way, for q [B, h, Tq, d] and
 * k, v [B, h, Tk, d]; with `causal`, query i sees keys up to
 * its position Tk - Tq + i. The weights are never stored: the backward pass
 * recomputes them. Null when the kernels are off or the shapes do not fit.
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, { scale, causal }: { scale: number; causal: boolean }): tf.Tensor | null {
  if (!kernelsActive() || q.rank !== 4 || k.rank !== 4 || v.rank !== 4 || [q, k, v].some((t) => t.dtype !== 'float32')) return null;
  const [B, h, , d] = q.shape;
  if (k.shape.join() !== `${B},${h},${k.shape[2]},${d}` || v.shape.join() !== k.shape.join()) return null;
  const key = `${scale}/${causal}`;
  let f = attentions.get(key);
  if (!f) attentions.set(key, (f = attentionWith(scale, causal)));
  return f(q, k, v);
}

const packedAttentionWith = (heads: number, scale: number, causal: boolean) =>
  tf.customGrad(((qkv: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = run(FUSED.attentionPacked, { qkv }, { heads, scale, causal }) as tf.Tensor[];
    save([qkv, out, lse]);
    return {
      value: out,
      gradFunc: (dout: tf.Tensor, [sqkv, sOut, sLse]: tf.Tensor[]) => run(FUSED.attentionPackedGrad, { qkv: sqkv, out: sOut, lse: sLse, dout }, { heads, scale, causal }) as tf.Tensor,
    };
  }) as Parameters<typeof tf.customGrad>[0]) as unknown as (qkv: tf.Tensor) => tf.Tensor;
const packedAttentions = new Map<string, ReturnType<typeof packedAttentionWith>>();

/**
 * Multi-head self-attention straight from a fused projection: qkv [B, T, 3C]
 * holds Q, K and V side by side (as nanoGPT's c_attn gives them, heads of
 * d = C / heads), and the result is [B, T, C] with the heads merged, ready for
 * W_O. One fused kernel each way, with no split, transposes or concatenation,
 * and the weights recomputed in the backward pass. Null when the kernels are
 * off or the shape does not fit.
 */
export function fusedSelfAttention(qkv: tf.Tensor, heads: number, { scale, causal }: { scale: number; causal: boolean }): tf.Tensor | null {
  if (!kernelsActive() || qkv.rank !== 3 || qkv.dtype !== 'float32' || qkv.shape[2]! % (3 * heads) !== 0) return null;
  const key = `${heads}/${scale}/${causal}`;
  let f = packedAttentions.get(key);
  if (!f) packedAttentions.set(key, (f = packedAttentionWith(heads, scale, causal)));
  return f(qkv);
}

/**
 * Mean softmax cross-entropy of logits [N, V] against int32 targets [N], in one
 * fused kernel each way (no [N, V] target tensor): targets equal to `ignoreIndex`
 * count for nothing; `labelSmoothing` eps makes the target (1 - eps) one-hot + eps / V.
 * A target out of [0, V) is a ValueError naming it. Null when the kernels are off.
 */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, options: { ignoreIndex?: number; labelSmoothing?: number } = {}): tf.Scalar | null {
  if (!kernelsActive() || logits.rank !== 2 || targets.rank !== 1 || logits.dtype !== 'float32' || targets.dtype !== 'int32') return null;
  const attrs = { hasIgnore: options.ignoreIndex !== undefined, ignore: options.ignoreIndex ?? 0, eps: options.labelSmoothing ?? 0 };
  const key = `${attrs.hasIgnore}/${attrs.ignore}/${attrs.eps}`;
  let f = crossEntropies.get(key);
  if (!f) crossEntropies.set(key, (f = crossEntropyWith(attrs)));
  return f(logits, targets);
}

const crossEntropyWith = (attrs: { hasIgnore: boolean; ignore: number; eps: number }) =>
  tf.customGrad(((x: tf.Tensor, targets: tf.Tensor, save: tf.GradSaveFunc) => {
    const [loss, lse] = run(FUSED.crossEntropy, { logits: x, targets }, attrs) as tf.Tensor[];
    save([x, lse, targets]);
    return {
      value: loss,
      // The integer targets get no gradient (zeros, as tfjs wants one per input).
      gradFunc: (dy: tf.Tensor, [sx, sLse, sTargets]: tf.Tensor[]) => [run(FUSED.crossEntropyGrad, { logits: sx, targets: sTargets, lse: sLse, dy }, attrs) as tf.Tensor, tf.zerosLike(sTargets)],
    };
  }) as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, targets: tf.Tensor) => tf.Scalar;
const crossEntropies = new Map<string, ReturnType<typeof crossEntropyWith>>();
