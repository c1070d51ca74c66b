// One colour per head: the Okabe–Ito palette, which readers with red-green
// colour blindness tell apart (bertviz's category10 put red and green heads
// side by side), bright enough on the dark picture, black replaced by grey.
// Where several heads light the same pair, their colours mix in proportion
// to their weights.

/** Head colours, in head order: sky blue, orange, bluish green, reddish purple, yellow, blue, vermillion, grey. */
export const HEAD_COLORS = ['#56b4e9', '#e69f00', '#009e73', '#cc79a7', '#f0e442', '#0072b2', '#d55e00', '#999999'];

export type Rgb = [number, number, number];

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function headColor(head: number): string {
  return HEAD_COLORS[head % HEAD_COLORS.length];
}

const RGB = HEAD_COLORS.map(hexToRgb);
export function headRgb(head: number): Rgb {
  return RGB[head % RGB.length];
}

/**
 * Mix the colours of heads by weight: `weights[i]` belongs to `heads[i]`.
 * Returns the weighted mean colour and the combined brightness
 * 1 - Π(1 - w): two half-bright heads on the same pair shine at 0.75, as two
 * lights would, and the result never exceeds 1.
 */
export function blend(heads: readonly number[], weights: readonly number[]): { rgb: Rgb; alpha: number } {
  let r = 0, g = 0, b = 0, total = 0, dark = 1;
  for (let i = 0; i < heads.length; i++) {
    const w = Math.min(1, Math.max(0, weights[i]));
    if (w === 0) continue;
    const [cr, cg, cb] = headRgb(heads[i]);
    r += w * cr; g += w * cg; b += w * cb; total += w;
    dark *= 1 - w;
  }
  if (total === 0) return { rgb: [0, 0, 0], alpha: 0 };
  return { rgb: [Math.round(r / total), Math.round(g / total), Math.round(b / total)], alpha: 1 - dark };
}

/** WCAG relative luminance of an sRGB colour. */
function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio between two colours (1 to 21). */
export function contrast(a: Rgb, b: Rgb): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** The digit colour on a swatch: white or black, whichever contrasts more with the swatch. */
export function digitColor(background: string): string {
  const bg = hexToRgb(background);
  return contrast(bg, [255, 255, 255]) >= contrast(bg, [0, 0, 0]) ? '#ffffff' : '#000000';
}

export function rgba([r, g, b]: Rgb, alpha: number): string {
  return `rgba(${r},${g},${b},${Math.round(alpha * 1000) / 1000})`;
}

/** Sequential colour for heatmaps: dark navy at 0 to bright yellow at 1 (a small viridis-like ramp). */
const RAMP: Rgb[] = [[13, 8, 35], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]];
export function ramp(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i], b = RAMP[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** Diverging colour for signed values in [-1, 1]: blue, white, red. */
export function diverging(t: number): Rgb {
  const x = Math.min(1, Math.max(-1, Number.isFinite(t) ? t : 0));
  const k = Math.round(255 * (1 - Math.abs(x)));
  return x >= 0 ? [255, k, k] : [k, k, 255];
}
