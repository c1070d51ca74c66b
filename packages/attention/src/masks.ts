// Masks as one additive bias on the attention scores.
//
//   mask            bool: true = the query may attend to the key (as PyTorch's
//                   F.scaled_dot_product_attention); float: added to the scores
//                   (-Infinity blocks). Broadcastable to [B, h, Tq, Tk].
//   keyPaddingMask  bool [B, Tk]: true = the key is padding (as PyTorch's
//                   nn.MultiheadAttention key_padding_mask).
//   causal          query i sits at position Tk - Tq + i (the queries are the
//                   last Tq positions, which is what a KV cache needs) and sees
//                   keys j <= that position.
//   window          with causal: also only the last `window` keys, j > pos - window.
//
// Blocked entries get BLOCKED (-1e9) added: exp underflows to exactly 0 and,
// unlike -Infinity, a row with every key blocked gives no NaN. Such rows are
// then multiplied by 0, so they come out as zeros.
import { ShapeError, formatShape, tf } from '@tx/core';

/** The score a blocked key gets (-1e9): its softmax weight is 0 in float32, and every number stays finite. */
export const BLOCKED = -1e9;

/** Which keys each query may see: a boolean mask, key padding, causal order, a sliding window, an additive score bias. */
export interface MaskOptions {
  mask?: tf.Tensor | null;
  keyPaddingMask?: tf.Tensor | null;
  causal?: boolean;
  window?: number | null;
  /** Additive bias broadcastable to [B, h, Tq, Tk], e.g. ALiBi's [h, Tq, Tk]. */
  bias?: tf.Tensor | null;
}

/** The masks of MaskOptions as one additive term, and which query rows see at least one key (what scoreBias returns). */
export interface ScoreBias {
  /** Added to the scaled scores; broadcastable to [B, h, Tq, Tk]. */
  additive: tf.Tensor | null;
  /** 1 where a query row has at least one visible key, else 0: [.., Tq, 1]. Null when every row has one. */
  rowVisible: tf.Tensor | null;
}

/** scores: [B, h, Tq, Tk]. Call inside tf.tidy. */
export function scoreBias(B: number, h: number, Tq: number, Tk: number, opts: MaskOptions): ScoreBias {
  const parts: tf.Tensor[] = [];
  let blocked: tf.Tensor | null = null; // float 1 = blocked, broadcastable
  let mayBlockWholeRow = false;
  const block = (t: tf.Tensor) => {
    blocked = blocked ? tf.maximum(blocked, t) : t;
  };

  if (opts.causal || opts.window != null) {
    if (opts.causal && Tk < Tq) mayBlockWholeRow = true;
    const byPosition = causalMask(Tq, Tk, { causal: opts.causal === true, window: opts.window });
    if (byPosition) block(byPosition);
  }
  if (opts.mask) {
    const m = opts.mask;
    checkBroadcast('mask', m, [B, h, Tq, Tk]);
    mayBlockWholeRow = true;
    if (m.dtype === 'bool') {
      block(tf.sub(1, tf.cast(m, 'float32')));
    } else {
      const negInf = tf.equal(m, -Infinity);
      parts.push(tf.where(negInf, tf.zerosLike(m), m));
      block(tf.cast(negInf, 'float32'));
    }
  }
  if (opts.keyPaddingMask) {
    const p = opts.keyPaddingMask;
    if (p.rank !== 2 || p.shape[0] !== B || p.shape[1] !== Tk || p.dtype !== 'bool') {
      throw new ShapeError(`keyPaddingMask must be bool [B, Tk] = [${B}, ${Tk}], found ${p.dtype} ${formatShape(p.shape)}`);
    }
    mayBlockWholeRow = true;
    block(tf.reshape(tf.cast(p, 'float32'), [B, 1, 1, Tk]));
  }
  if (opts.bias) {
    checkBroadcast('bias', opts.bias, [B, h, Tq, Tk]);
    parts.push(opts.bias);
  }

  if (blocked) parts.push(tf.mul(blocked, BLOCKED));
  const additive = parts.length === 0 ? null : parts.reduce((a, b) => tf.add(a, b));
  const rowVisible = blocked && mayBlockWholeRow ? tf.sub(1, tf.min(blocked as tf.Tensor, -1, true)) : null;
  return { additive, rowVisible };
}

/**
 * The blocked entries of causal (and sliding-window) attention, float 1 =
 * blocked [Tq, Tk], or null when nothing is blocked (one query at the end of
 * the keys: a cached decoding step sees them all). Query i sits at position
 * Tk - Tq + i. The values are remembered for the last few shapes, so every
 * layer of a forward pass (and the next pass) reuses them: at GPT-2's context
 * they are 1M entries.
 */
export function causalMask(Tq: number, Tk: number, { causal = true, window = null }: { causal?: boolean; window?: number | null } = {}): tf.Tensor | null {
  const w = window ?? Infinity;
  if (!(w >= 1)) throw new ShapeError(`attention window must be >= 1, found ${window}`);
  const key = `${Tq},${Tk},${causal},${w}`;
  let values = maskValues.get(key);
  if (values === undefined) {
    values = blockedValues(Tq, Tk, causal, w);
    if (maskValues.size >= MASKS_KEPT) maskValues.delete(maskValues.keys().next().value!);
    maskValues.set(key, values);
  }
  return values ? tf.tensor2d(values, [Tq, Tk]) : null;
}

/** The masks' values by shape, oldest first (a few, each at most Tq x Tk floats). */
const maskValues = new Map<string, Float32Array | null>();
const MASKS_KEPT = 4;

function blockedValues(Tq: number, Tk: number, causal: boolean, w: number): Float32Array | null {
  const offset = Tk - Tq;
  const values = new Float32Array(Tq * Tk);
  let anyBlocked = false;
  for (let i = 0; i < Tq; i++)
    for (let j = 0; j < Tk; j++) {
      const pos = offset + i;
      if ((causal && j > pos) || j <= pos - w) {
        values[i * Tk + j] = 1;
        anyBlocked = true;
      }
    }
  return anyBlocked ? values : null;
}

function checkBroadcast(name: string, t: tf.Tensor, target: number[]): void {
  const ok = t.rank <= target.length && t.shape.every((d, i) => d === 1 || d === target[target.length - t.rank + i]);
  if (!ok) throw new ShapeError(`${name} must broadcast to [B, h, Tq, Tk] = ${formatShape(target)}, found shape ${formatShape(t.shape)}`);
}
