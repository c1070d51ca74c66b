import { describe, expect, it } from 'vitest';
import { heatmapPixels, signedColour, weightColour } from './heatmap.js';

describe('heatmapPixels', () => {
  it('writes one opaque RGBA pixel per cell, row-major', () => {
    const px = heatmapPixels([[0, 1], [1, 0]], weightColour());
    expect(px).toHaveLength(16);
    expect([...px.slice(0, 4)]).toEqual([13, 8, 35, 255]);
    expect([...px.slice(4, 8)]).toEqual([252, 253, 191, 255]);
    expect([...heatmapPixels([[-2]], signedColour(2))]).toEqual([0, 0, 255, 255]);
  });
});
