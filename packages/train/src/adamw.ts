// AdamW (Loshchilov & Hutter), as torch.optim.AdamW and nanoGPT use it:
//
//   p <- p - lr * wd * p                    (decoupled weight decay, matrices only)
//   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//   p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//
// nanoGPT decays parameters of rank >= 2 (weights of matmuls and embeddings)
// and not biases or norm gains; so do we.
import { TxError, ValueError, adamW, clipFactor, formatShape, tf } from '@tx/core';

/** AdamW's hyperparameters, and which parameters decay. */
export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Which parameters decay. Default: rank >= 2, as nanoGPT. */
  decays?: (name: string, param: tf.Variable) => boolean;
}

interface Slot {
  name: string;
  param: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
}

/**
 * A moment of zeros shaped like param. tf.variable keeps the tensor it is given
 * alive (the same data), so the zeros are disposed here: otherwise every AdamW
 * left two tensors per parameter behind after its dispose().
 */
function zeroMoment(param: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(param);
  const moment = tf.variable(zeros, false);
  zeros.dispose();
  return moment;
}

/** AdamW (Loshchilov & Hutter) as torch.optim.AdamW and nanoGPT use it: weight decay decoupled, and applied to matrices only. */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;
  /** Number of updates applied so far (t in the formulas). */
  step = 0;
  private readonly slots: Slot[];

  constructor(params: Array<[string, tf.Variable]>, options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    const decays = options.decays ?? ((_name: string, p: tf.Variable) => p.rank >= 2);
    this.slots = params
      .filter(([, p]) => p.trainable)
      .map(([name, param]) => ({
        name,
        param,
        m: zeroMoment(param),
        v: zeroMoment(param),
        decay: decays(name, param),
      }));
  }

  /** The names of the parameters that weight decay applies to. */
  decayedNames(): string[] {
    return this.slots.filter((s) => s.decay).map((s) => s.name);
  }

  /**
   * Apply one update. grads maps parameter names to gradients (missing names are skipped).
   * With `maxNorm` > 0 they are clipped first to a global L2 norm of at most maxNorm, as
   * torch's clip_grad_norm_ over those this optimizer holds: the norm before clipping is returned as a scalar
   * tensor the caller disposes (null without clipping). Nothing is read back to JavaScript.
   */
  apply(grads: Record<string, tf.Tensor>, lr = this.lr, options: { maxNorm?: number } = {}): tf.Scalar | null {
    const maxNorm = options.maxNorm ?? 0;
    if (!Number.isFinite(maxNorm) || maxNorm < 0) throw new ValueError(`AdamW.apply: maxNorm must be a finite number >= 0, got ${maxNorm}`);
    this.step += 1;
    const t = this.step;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    const live = this.slots.filter((s) => grads[s.name]);
    const decay = (s: Slot) => (s.decay && this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1);
    // The update is @tx/core's adamW op: on wasm one fused call per parameter, clipping included.
    const step = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, correction2, stepSize: lr / correction1 };
    const out = adamW(live.map((s) => ({ param: s.param, m: s.m, v: s.v, grad: grads[s.name], decay: decay(s) })), step, maxNorm);
    live.forEach((s, i) => {
      s.param.assign(out.params[i]);
      s.m.assign(out.m[i]);
      s.v.assign(out.v[i]);
    });
    tf.dispose([...out.params, ...out.m, ...out.v]);
    return out.norm;
  }

  /** Moments and step, for optimizer.safetensors: "exp_avg.<name>", "exp_avg_sq.<name>" (PyTorch's words). Caller disposes. */
  stateDict(): { tensors: Record<string, tf.Tensor>; step: number } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const s of this.slots) {
      tensors[`exp_avg.${s.name}`] = tf.clone(s.m);
      tensors[`exp_avg_sq.${s.name}`] = tf.clone(s.v);
    }
    return { tensors, step: this.step };
  }

  loadStateDict(state: { tensors: Record<string, tf.Tensor>; step: number }): void {
    const problems: string[] = [];
    for (const s of this.slots) {
      for (const key of [`exp_avg.${s.name}`, `exp_avg_sq.${s.name}`]) {
        const t = state.tensors[key];
        if (!t) problems.push(`missing tensor "${key}"`);
        else if (t.shape.join() !== s.param.shape.join()) problems.push(`tensor "${key}": expected shape ${formatShape(s.param.shape)}, found ${formatShape(t.shape)}`);
      }
    }
    if (!Number.isInteger(state.step) || state.step < 0) problems.push(`step must be a non-negative integer, found ${state.step}`);
    if (problems.length) throw new TxError(`optimizer state does not fit: ${problems.join('; ')}`);
    for (const s of this.slots) {
      s.m.assign(state.tensors[`exp_avg.${s.name}`]);
      s.v.assign(state.tensors[`exp_avg_sq.${s.name}`]);
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}

/**
 * Scale gradients so their global L2 norm is at most maxNorm, as torch's
 * clip_grad_norm_: g * min(1, maxNorm / (norm + 1e-6)). Nothing is read back
 * to JavaScript (a synchronous read stalls, and in browsers can lose, the
 * WebGPU device): the norm is returned as a scalar tensor. The caller owns the
 * new gradients and the norm; the input gradients are left as they were.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  return tf.tidy(() => {
    const { norm, scale } = clipScale(grads, maxNorm);
    const out: Record<string, tf.Tensor> = {};
    for (const [n, g] of Object.entries(grads)) out[n] = tf.mul(g, scale);
    return { grads: out, norm };
  });
}

/**
 * The global L2 norm of the gradients and clipping's factor min(1, maxNorm / (norm + 1e-6)),
 * both scalar tensors the caller owns (@tx/core's clipFactor, with which its adamW op clips).
 */
export function clipScale(grads: Record<string, tf.Tensor>, maxNorm: number): { norm: tf.Scalar; scale: tf.Scalar } {
  return clipFactor(Object.values(grads), maxNorm);
}

