import { describe, expect, it } from 'vitest';
import { headRgb } from './colors.js';
import { arcBetween, brightestOther, defaultLayout, hitWord, layoutSentence, receivedLight, sentenceLights } from './sentence.js';

// One layer, two heads, three words; the query is word 2.
const A = [[
  [[1, 0, 0], [0.5, 0.5, 0], [0.7, 0.2, 0.1]],
  [[1, 0, 0], [0.5, 0.5, 0], [0.6, 0.0, 0.4]],
]];

describe('layoutSentence', () => {
  it('stands the words in reading order with a gap, and wraps the line when it is full', () => {
    const l = layoutSentence([40, 60, 30, 50], { width: 200, fontSize: 20, gap: 10, padding: 10, arcRoom: 80 });
    expect(l.boxes.map((b) => [b.x, b.line])).toEqual([[10, 0], [60, 0], [130, 0], [10, 1]]);
    expect(l.boxes[0].y).toBe(10 + 80 + 12);
    expect(l.boxes[3].y - l.boxes[0].y).toBe(l.lineHeight);
    expect(l.height).toBeGreaterThan(l.boxes[3].y);
  });

  it('keeps a word longer than the line on a line of its own, not an empty one', () => {
    const l = layoutSentence([500, 20], { width: 200, padding: 10 });
    expect(l.boxes.map((b) => b.line)).toEqual([0, 1]);
  });

  it('hit-tests the word under the pointer', () => {
    const l = layoutSentence([40, 60], { width: 400, fontSize: 20, gap: 10, padding: 10 });
    expect(hitWord(l, 30, l.boxes[0].y)).toBe(0);
    expect(hitWord(l, 100, l.boxes[1].y + 5)).toBe(1);
    expect(hitWord(l, 100, l.boxes[1].y - 60)).toBeNull();
    expect(hitWord(l, 300, l.boxes[1].y)).toBeNull();
  });
});

describe('arcs of light', () => {
  it('rises with the distance between the words, and stays inside the room above the line', () => {
    const l = layoutSentence([30, 30, 30, 30, 30, 30, 30, 30], { width: 800, fontSize: 20, gap: 60, padding: 10, arcRoom: 80 });
    const near = arcBetween(l, 3, 4), far = arcBetween(l, 0, 7);
    expect(near.x0).toBeGreaterThan(near.x1 - 100);
    expect(far.cy).toBeLessThan(near.cy);
    const peak = (a: typeof far) => (a.y0 + 2 * a.cy + a.y1) / 4; // the top of a quadratic curve with level ends
    expect(peak(far)).toBeGreaterThanOrEqual(l.boxes[0].y - 20 * 0.75 - 80);
  });

  it('one arc per head and key with weight above the threshold, faint first, in the head colour', () => {
    const lights = sentenceLights(A, { layer: 0, heads: [0, 1], query: 2, threshold: 0.05 });
    expect(lights.map((l) => [l.head, l.key, l.weight])).toEqual([[0, 2, 0.1], [0, 1, 0.2], [1, 2, 0.4], [1, 0, 0.6], [0, 0, 0.7]]);
    expect(lights[0].rgb).toEqual(headRgb(0));
    expect(sentenceLights(A, { layer: 0, heads: [1], query: 2 }).map((l) => l.key)).toEqual([2, 0]);
    expect(sentenceLights(A, { layer: 3, heads: [0], query: 0 })).toEqual([]);
  });

  it('a word glows with the light it receives: colours mixed by weight, brightness 1 - Π(1 - w)', () => {
    const glow = receivedLight(A, { layer: 0, heads: [0, 1], query: 2 });
    expect(glow).toHaveLength(3);
    expect(glow[0].alpha).toBeCloseTo(1 - 0.3 * 0.4, 10);
    expect(glow[1].alpha).toBeCloseTo(0.2, 10);
    expect(glow[1].rgb).toEqual(headRgb(0)); // only head 0 lights word 1
    expect(receivedLight(A, { layer: 0, heads: [], query: 2 }).every((g) => g.alpha === 0)).toBe(true);
  });

  it('names the brightest other word, and picks the sentence picture for short inputs', () => {
    expect(brightestOther([0.6, 0.1, 0.3], 0)).toBe(2);
    expect(brightestOther([0.2, 0.7, 0.1], 1)).toBe(0);
    expect(defaultLayout(12)).toBe('sentence');
    expect(defaultLayout(60)).toBe('columns');
  });
});
