import { describe, expect, it } from 'vitest';
import { CATEGORY10, blend, diverging, headColor, hexToRgb, ramp } from './colors.js';

describe('head colours', () => {
  it('are category10, cycling after ten heads', () => {
    expect(headColor(0)).toBe('#1f77b4');
    expect(headColor(10)).toBe(CATEGORY10[0]);
    expect(hexToRgb('#ff7f0e')).toEqual([255, 127, 14]);
  });

  it('blend by weight, and agreeing heads shine brighter than either', () => {
    const one = blend([0], [0.5]);
    expect(one.rgb).toEqual(hexToRgb('#1f77b4'));
    expect(one.alpha).toBeCloseTo(0.5);
    const two = blend([0, 1], [0.5, 0.5]);
    expect(two.alpha).toBeCloseTo(0.75);
    const [a, b] = [hexToRgb(CATEGORY10[0]), hexToRgb(CATEGORY10[1])];
    expect(two.rgb).toEqual([0, 1, 2].map((i) => Math.round((a[i] + b[i]) / 2)));
    // A head at weight 0 does not tint the line.
    expect(blend([0, 1], [0.3, 0]).rgb).toEqual(a);
    expect(blend([0, 1], [0, 0]).alpha).toBe(0);
    expect(blend([0, 1], [1, 1]).alpha).toBe(1);
  });
});

describe('ramps', () => {
  it('run dark to bright and clamp', () => {
    expect(ramp(0)).toEqual([13, 8, 35]);
    expect(ramp(1)).toEqual([252, 253, 191]);
    expect(ramp(2)).toEqual(ramp(1));
    expect(ramp(NaN)).toEqual(ramp(0));
    expect(diverging(0)).toEqual([255, 255, 255]);
    expect(diverging(1)).toEqual([255, 0, 0]);
    expect(diverging(-1)).toEqual([0, 0, 255]);
  });
});
