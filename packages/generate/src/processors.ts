// Logits processors: small functions that reshape the next-token logits before
// a token is picked, chained in order (as in transformers.js / HF
// transformers). Decoding one sequence at a time, logits are a plain
// Float32Array of vocabulary size; processors may change it in place.
//
//   const chain = [repetitionPenalty(1.2), temperature(0.8), topK(40), topP(0.95)];
import { ValueError } from '@tx/core/errors';

/** What a LogitsProcessor may look at besides the logits. */
export interface ProcessorContext {
  /** Every id so far: the prompt's and the generated ones. */
  ids: readonly number[];
}

/** A step of the sampling chain: the next token's logits in, new logits out (temperature, top-k, top-p, repetition penalty). */
export type LogitsProcessor = (logits: Float32Array, context: ProcessorContext) => Float32Array;

/** The logits run through the processors, in order. */
export function applyProcessors(processors: readonly LogitsProcessor[], logits: Float32Array, context: ProcessorContext): Float32Array {
  let out = logits;
  for (const p of processors) out = p(out, context);
  return out;
}

/** Divide logits by t: t < 1 sharpens the distribution, t > 1 flattens it. */
export function temperature(t: number): LogitsProcessor {
  if (!(t > 0)) throw new ValueError(`temperature must be > 0, got ${t} (use greedy decoding for t = 0)`);
  return (logits) => {
    if (t !== 1) for (let i = 0; i < logits.length; i++) logits[i] /= t;
    return logits;
  };
}

/** Keep the k largest logits (ties at the k-th value are kept too); the rest become -Infinity. */
export function topK(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`topK needs an integer k >= 1, got ${k}`);
  return (logits) => {
    if (k >= logits.length) return logits;
    const threshold = Float32Array.from(logits).sort()[logits.length - k];
    for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
    return logits;
  };
}

/**
 * Nucleus sampling: keep the smallest set of most likely tokens whose
 * probabilities sum to at least p; the rest become -Infinity.
 */
export function topP(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new ValueError(`topP needs p in (0, 1], got ${p}`);
  return (logits) => {
    if (p === 1) return logits;
    const probs = softmax(logits);
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    let cumulative = 0;
    let kept = 0;
    while (kept < order.length && cumulative < p) cumulative += probs[order[kept++]];
    for (let r = kept; r < order.length; r++) logits[order[r]] = -Infinity;
    return logits;
  };
}

/**
 * CTRL's repetition penalty: for each id already present, a positive logit is
 * divided by the penalty and a negative one multiplied by it, so seen tokens
 * become less likely either way.
 */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  if (!(penalty >= 1)) throw new ValueError(`repetitionPenalty must be >= 1, got ${penalty}`);
  return (logits, { ids }) => {
    if (penalty === 1) return logits;
    for (const id of new Set(ids)) {
      if (id < 0 || id >= logits.length) continue;
      logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
    }
    return logits;
  };
}

/** Numerically stable softmax of a logits vector (-Infinity entries get probability 0). */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Log-softmax, for log-probabilities and beam scores. */
export function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logSum = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - logSum);
}

/** Index of the largest logit (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Indices of the n largest values, largest first (ties: lower index first).
 * One pass with a small sorted buffer: O(V n) rather than sorting all V.
 */
export function topIndices(values: ArrayLike<number>, n: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length === n && !(values[i] > values[best[n - 1]])) continue;
    let at = best.length;
    while (at > 0 && values[i] > values[best[at - 1]]) at--;
    best.splice(at, 0, i);
    if (best.length > n) best.pop();
  }
  return best;
}
