// Which lines the attention view draws, and how bright.
//
// For a layer, every (query, key) pair gets one line whose colour mixes the
// selected heads' colours by weight and whose brightness is 1 - Π(1 - w_h).
// At 256+ tokens there are 65k pairs x heads: we keep only pairs whose
// strongest head passes `threshold`, and at most `topK` keys per query,
// so the picture stays readable and a frame stays cheap.
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
}

export function attentionLines(attention: Attention, opts: LineOptions): Line[] {
  const layer = attention[opts.layer];
  if (!layer || opts.heads.length === 0) return [];
  const threshold = opts.threshold ?? 0.01;
  const T = layer[0].length;
  const K = layer[0][0]?.length ?? 0;
  const topK = Math.min(opts.topK ?? K, K);
  const heads = opts.heads.filter((h) => h >= 0 && h < layer.length);
  const focus = opts.focus ?? null;
  const out: Line[] = [];
  const weights = new Array<number>(heads.length);
  for (let q = 0; q < T; q++) {
    if (focus?.side === 'left' && q !== focus.token) continue;
    const row: Line[] = [];
    for (let k = 0; k < K; k++) {
      if (focus?.side === 'right' && k !== focus.token) continue;
      let max = 0;
      for (let i = 0; i < heads.length; i++) {
        const w = layer[heads[i]][q][k];
        weights[i] = w;
        if (w > max) max = w;
      }
      if (max < threshold) continue;
      const { rgb, alpha } = blend(heads, weights);
      row.push({ query: q, key: k, rgb, alpha, max });
    }
    if (row.length > topK) {
      row.sort((a, b) => b.alpha - a.alpha);
      row.length = topK;
    }
    for (const line of row) out.push(line);
  }
  // Faint lines first, so the bright ones are drawn on top.
  out.sort((a, b) => a.alpha - b.alpha);
  return out;
}

/** Sensible defaults for the input length: every line for short inputs, the strongest few for long ones. */
export function defaultLineOptions(tokens: number): { threshold: number; topK: number } {
  if (tokens <= 64) return { threshold: 0.01, topK: tokens };
  if (tokens <= 128) return { threshold: 0.02, topK: 8 };
  return { threshold: 0.03, topK: 4 };
}

/** Toggle a head in the selection, keeping it sorted. */
export function toggleHead(selected: readonly number[], head: number): number[] {
  return selected.includes(head) ? selected.filter((h) => h !== head) : [...selected, head].sort((a, b) => a - b);
}
