import { describe, expect, it } from 'vitest';
import { hitTest, layoutColumns, rowY } from './layout.js';

describe('layoutColumns', () => {
  it('gives short inputs readable rows with labels', () => {
    const l = layoutColumns(14, { width: 600 });
    expect(l.rowHeight).toBe(22);
    expect(l.showLabels).toBe(true);
    expect(l.leftX).toBeLessThan(l.rightX);
  });

  it('fits 256 tokens in the height, hiding labels that would not be legible', () => {
    const l = layoutColumns(256, { width: 600, maxHeight: 640 });
    expect(l.height).toBeLessThanOrEqual(640);
    expect(l.showLabels).toBe(false);
    expect(rowY(l, 255)).toBeLessThan(l.height);
  });

  it('hit-tests the token under the pointer in each column', () => {
    const l = layoutColumns(10, { width: 600 });
    const counts = { left: 10, right: 10 };
    expect(hitTest(l, 10, rowY(l, 3), counts)).toEqual({ token: 3, side: 'left' });
    expect(hitTest(l, 590, rowY(l, 9), counts)).toEqual({ token: 9, side: 'right' });
    expect(hitTest(l, 300, rowY(l, 3), counts)).toBeNull();
    expect(hitTest(l, 10, rowY(l, 12), counts)).toBeNull();
  });
});
