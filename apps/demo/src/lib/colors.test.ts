import { describe, expect, it } from 'vitest';
import { HEAD_COLORS, blend, contrast, digitColor, diverging, headColor, hexToRgb, ramp } from './colors.js';

describe('head colours', () => {
  it('are Okabe–Ito, cycling after eight heads', () => {
    expect(headColor(0)).toBe('#56b4e9');
    expect(headColor(8)).toBe(HEAD_COLORS[0]);
    expect(hexToRgb('#e69f00')).toEqual([230, 159, 0]);
  });

  it('carry digits of at least 4.5:1 contrast (dark digits on the light swatches)', () => {
    expect(contrast([255, 255, 255], [0, 0, 0])).toBeCloseTo(21, 5);
    // White on orange was 2.2:1; dark digits there.
    expect(contrast(hexToRgb('#e69f00'), [255, 255, 255])).toBeCloseTo(2.25, 2);
    expect(digitColor('#e69f00')).toBe('#000000');
    expect(digitColor('#0072b2')).toBe('#ffffff');
    for (const c of HEAD_COLORS) expect(contrast(hexToRgb(c), hexToRgb(digitColor(c)))).toBeGreaterThanOrEqual(4.5);
  });

  it('blend by weight, and agreeing heads shine brighter than either', () => {
    const one = blend([0], [0.5]);
    expect(one.rgb).toEqual(hexToRgb('#56b4e9'));
    expect(one.alpha).toBeCloseTo(0.5);
    const two = blend([0, 1], [0.5, 0.5]);
    expect(two.alpha).toBeCloseTo(0.75);
    const [a, b] = [hexToRgb(HEAD_COLORS[0]), hexToRgb(HEAD_COLORS[1])];
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
