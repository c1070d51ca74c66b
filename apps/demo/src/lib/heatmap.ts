// Matrices as pixels: one cell per value, coloured by a ramp, written into
// an RGBA buffer the canvas scales up without smoothing. Fast at 256x256.
import { diverging, ramp, type Rgb } from './colors.js';

export type Colour = (value: number) => Rgb;

/** Row-major RGBA pixels for a rows x cols matrix. */
export function heatmapPixels(m: readonly ArrayLike<number>[], colour: Colour): Uint8ClampedArray<ArrayBuffer> {
  const rows = m.length, cols = m[0]?.length ?? 0;
  const px = new Uint8ClampedArray(rows * cols * 4);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [R, G, B] = colour(m[r][c]);
      const o = (r * cols + c) * 4;
      px[o] = R; px[o + 1] = G; px[o + 2] = B; px[o + 3] = 255;
    }
  }
  return px;
}

/** Attention weights: 0..max of the matrix mapped onto the sequential ramp (max 1 keeps heads comparable). */
export function weightColour(max = 1): Colour {
  return (v) => ramp(v / max);
}

/** Signed values: symmetric around zero. */
export function signedColour(absMax: number): Colour {
  return (v) => diverging(v / absMax);
}
