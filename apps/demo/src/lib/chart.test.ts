import { describe, expect, it } from 'vitest';
import { chartScale, downsample, ema } from './chart.js';

describe('loss chart', () => {
  it('maps data into the padded box, y up', () => {
    const s = chartScale([{ x: 0, y: 4 }, { x: 10, y: 2 }], 200, 100, 10);
    expect(s.toPx({ x: 0, y: 4 })).toEqual({ x: 10, y: 10 });
    expect(s.toPx({ x: 10, y: 2 })).toEqual({ x: 190, y: 90 });
  });

  it('downsamples long runs to bucket means', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => ({ x: i, y: i % 2 }));
    const d = downsample(pts, 100);
    expect(d).toHaveLength(100);
    expect(d[0].y).toBeCloseTo(0.5);
    expect(downsample(pts.slice(0, 5), 100)).toHaveLength(5);
  });

  it('smooths with a bias-corrected moving average', () => {
    expect(ema([3, 3, 3])).toEqual([3, 3, 3].map((v) => expect.closeTo(v, 10)));
  });
});
