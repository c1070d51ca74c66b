// Which lines the attention view draws, and how bright.
//
// For a layer, every (query, key) pair gets one line whose colour mixes the
// selected heads' colours by weight and whose brightness is 1 - Π(1 - w_h).
// At 256+ tokens there are 65k pairs x heads (at 1,024, a million): we keep
// only pairs whose strongest head passes `threshold`, and at most `topK`
// keys per query, so the picture stays readable and a frame stays cheap.
import type { Attention } from './data.js';
import { blend, type Rgb } from './colors.js';

export interface Line {
  query: number;
  key: number;
  rgb: Rgb;
  alpha: number;
  /** The largest single-head weight on this pair. */
  max: number;
}

export interface LineOptions {
  layer: number;
  heads: readonly number[];
  /** Only pairs with a head weight at least this (default 0.01). */
  threshold?: number;
  /** Keep the strongest `topK` keys of each query (default: all). */
  topK?: number;
  /** Show only lines touching this token: as a query (side 'left') or as a key (side 'right'). */
  focus?: { token: number; side: 'left' | 'right' } | null;
  /** Heads whose light counts a quarter (near-uniform heads: without this their even spread is a haze over every line). */
  dimmed?: readonly number[];
}

export function attentionLines(attention: Attention, opts: LineOptions): Line[] {
  const layer = attention[opts.layer];
  if (!layer || layer.length === 0 || opts.heads.length === 0) return [];
  const threshold = opts.threshold ?? 0.01;
  const T = layer[0].length;
  const K = layer[0][0]?.length ?? 0;
  const topK = Math.min(opts.topK ?? K, K);
  const heads = opts.heads.filter((h) => h >= 0 && h < layer.length);
  const focus = opts.focus ?? null;
  const scale = heads.map((h) => (opts.dimmed?.includes(h) ? 0.25 : 1));
  const out: Line[] = [];
  // Per query: each key's brightness 1 - Π(1 - w_h) (-1 below the threshold), then its strongest keys.
  const brightness = new Float32Array(K).fill(-1);
  const weights = new Array<number>(heads.length);
  const [k0, k1] = focus?.side === 'right' ? [focus.token, Math.min(K, focus.token + 1)] : [0, K];
  for (let q = 0; q < T; q++) {
    if (focus?.side === 'left' && q !== focus.token) continue;
    brightness.fill(-1, k0, k1);
    for (let k = k0; k < k1; k++) {
      let max = 0, dark = 1;
      for (let i = 0; i < heads.length; i++) {
        const w = scale[i] * layer[heads[i]][q][k];
        if (w > max) max = w;
        dark *= 1 - Math.min(1, Math.max(0, w));
      }
      if (max >= threshold) brightness[k] = 1 - dark;
    }
    for (const k of strongestKeys(brightness, topK, 0)) {
      for (let i = 0; i < heads.length; i++) weights[i] = scale[i] * layer[heads[i]][q][k];
      const { rgb, alpha } = blend(heads, weights);
      out.push({ query: q, key: k, rgb, alpha, max: Math.max(...weights) });
    }
  }
  // Faint lines first, so the bright ones are drawn on top.
  out.sort((a, b) => a.alpha - b.alpha);
  return out;
}

/**
 * The indices of the `k` largest scores that are at least `min`, strongest
 * first (ties: the earlier key first). One pass keeping a sorted list of k:
 * O(K·k), where sorting every key of a 1,024-token row per query would not be.
 */
export function strongestKeys(scores: ArrayLike<number>, k: number, min = -Infinity): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let j = 0; j < scores.length; j++) {
    const s = scores[j];
    if (s < min || (best.length === k && s <= scores[best[k - 1]])) continue;
    let at = best.length;
    while (at > 0 && scores[best[at - 1]] < s) at--;
    best.splice(at, 0, j);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Sensible defaults for the input length: every line for short inputs, the strongest few for long ones. */
export function defaultLineOptions(tokens: number): { threshold: number; topK: number } {
  if (tokens <= 64) return { threshold: 0.01, topK: tokens };
  if (tokens <= 128) return { threshold: 0.02, topK: 8 };
  if (tokens <= 512) return { threshold: 0.03, topK: 4 };
  return { threshold: 0.05, topK: 3 };
}

/** Toggle a head in the selection, keeping it sorted. */
export function toggleHead(selected: readonly number[], head: number): number[] {
  return selected.includes(head) ? selected.filter((h) => h !== head) : [...selected, head].sort((a, b) => a - b);
}
