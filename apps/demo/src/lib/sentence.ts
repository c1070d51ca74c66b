// The explainer's picture of attention: the words stand in reading order,
// and the selected word sends an arc of light to every word it attends to.
// Brightness and width are the weight; each head has its colour, and where
// heads agree their colours add. A word glows with the light it receives.
//
// This file is the geometry and the light, as numbers (tested); the view
// draws them (views/sentence-canvas.ts).
import type { Attention } from './data.js';
import { blend, headRgb, type Rgb } from './colors.js';

export interface WordBox {
  /** Left edge and baseline-centre of the word's text. */
  x: number;
  y: number;
  width: number;
  /** Which line of the wrapped sentence (0 = first). */
  line: number;
}

export interface SentenceLayout {
  width: number;
  height: number;
  boxes: WordBox[];
  fontSize: number;
  /** Room above each line for the arcs. */
  arcRoom: number;
  lineHeight: number;
}

export interface SentenceLayoutOptions {
  /** The canvas width; words wrap to stay inside it. */
  width: number;
  fontSize?: number;
  /** Space between words. */
  gap?: number;
  /** Room above each line for arcs (default 4 x fontSize). */
  arcRoom?: number;
  padding?: number;
}

/** Place words (given their text widths) left to right, wrapping lines, with room for arcs above each line. */
export function layoutSentence(widths: readonly number[], opts: SentenceLayoutOptions): SentenceLayout {
  const fontSize = opts.fontSize ?? 20;
  const gap = opts.gap ?? Math.round(fontSize * 0.9);
  const arcRoom = opts.arcRoom ?? fontSize * 4;
  const padding = opts.padding ?? 16;
  const lineHeight = arcRoom + fontSize * 2;
  const boxes: WordBox[] = [];
  let x = padding;
  let line = 0;
  for (const w of widths) {
    if (x > padding && x + w > opts.width - padding) {
      line += 1;
      x = padding;
    }
    boxes.push({ x, y: padding + arcRoom + line * lineHeight + fontSize * 0.6, width: w, line });
    x += w + gap;
  }
  const lines = widths.length ? line + 1 : 1;
  return { width: opts.width, height: Math.ceil(2 * padding + lines * lineHeight - fontSize * 0.6), boxes, fontSize, arcRoom, lineHeight };
}

/** The arc from one word to another: a quadratic curve from the top of `from` to the top of `to`, rising with the distance. */
export function arcBetween(layout: SentenceLayout, from: number, to: number): { x0: number; y0: number; cx: number; cy: number; x1: number; y1: number } {
  const a = layout.boxes[from], b = layout.boxes[to];
  const top = (box: WordBox) => box.y - layout.fontSize * 0.75;
  const [x0, y0, x1, y1] = [a.x + a.width / 2, top(a), b.x + b.width / 2, top(b)];
  const rise = Math.min(layout.arcRoom * 0.95 * 2, 14 + 0.45 * Math.abs(x1 - x0) + 0.3 * Math.abs(y1 - y0));
  // The control point sits at twice the curve's peak height above the higher end.
  return { x0, y0, cx: (x0 + x1) / 2, cy: Math.min(y0, y1) - rise, x1, y1 };
}

export interface Light {
  key: number;
  head: number;
  weight: number;
  rgb: Rgb;
}

/** One arc per selected head and key the query attends to (weight at least `threshold`), faint ones first. */
export function sentenceLights(attention: Attention, { layer, heads, query, threshold = 0.02 }: { layer: number; heads: readonly number[]; query: number; threshold?: number }): Light[] {
  const rows = attention[layer];
  if (!rows) return [];
  const out: Light[] = [];
  for (const head of heads) {
    const row = rows[head]?.[query];
    if (!row) continue;
    for (let key = 0; key < row.length; key++) {
      if (row[key] >= threshold) out.push({ key, head, weight: row[key], rgb: headRgb(head) });
    }
  }
  return out.sort((a, b) => a.weight - b.weight);
}

/** The light each word receives from the query: the heads' colours mixed by weight, brightness 1 - Π(1 - w). */
export function receivedLight(attention: Attention, { layer, heads, query }: { layer: number; heads: readonly number[]; query: number }): Array<{ rgb: Rgb; alpha: number }> {
  const rows = attention[layer];
  const T = rows?.[0]?.[query]?.length ?? 0;
  return Array.from({ length: T }, (_, key) => blend(heads, heads.map((h) => rows[h][query][key])));
}

/** The word under a point (its box, with a margin), or null. */
export function hitWord(layout: SentenceLayout, x: number, y: number): number | null {
  const margin = layout.fontSize * 0.5;
  const i = layout.boxes.findIndex((b) => x >= b.x - margin / 2 && x <= b.x + b.width + margin / 2 && Math.abs(y - b.y) <= layout.fontSize * 0.8);
  return i < 0 ? null : i;
}

/** The key a head's row from `query` weighs most, other than the query itself (the word "it" points at). */
export function brightestOther(row: ArrayLike<number>, query: number): number {
  let best = -1;
  for (let j = 0; j < row.length; j++) {
    if (j !== query && (best < 0 || row[j] > row[best])) best = j;
  }
  return best;
}

/** The views' choice of picture: words as nodes for a sentence, bertviz's two columns for long texts. */
export function defaultLayout(tokens: number): 'sentence' | 'columns' {
  return tokens <= 40 ? 'sentence' : 'columns';
}
