import { describe, expect, it } from 'vitest';
import { downsampleMax, poolFactor, splitRows, thumbnailsOf } from './downsample.js';

const rows = (m: Float32Array[]) => m.map((r) => Array.from(r, (x) => Math.round(x * 1e6) / 1e6));

describe('downsampleMax', () => {
  it('keeps the largest weight of each block, partial blocks at the edges', () => {
    const m = [
      [1, 0, 0, 0, 0],
      [0.5, 0.5, 0, 0, 0],
      [0.2, 0.3, 0.5, 0, 0],
      [0.1, 0.2, 0.3, 0.4, 0],
      [0, 0, 0, 0.1, 0.9],
    ];
    expect(rows(downsampleMax(m, 2))).toEqual([[1, 0, 0], [0.3, 0.5, 0], [0, 0.1, 0.9]]);
    expect(rows(downsampleMax(m, 5))).toEqual([[1]]);
    expect(rows(downsampleMax(m, 1))).toEqual(m);
  });

  it('pools to the pixels there are', () => {
    expect([poolFactor(1024, 64), poolFactor(1024, 480), poolFactor(10, 64), poolFactor(65, 64), poolFactor(5, 0)]).toEqual([16, 3, 1, 2, 5]);
  });

  it('makes thumbnails of every layer x head held whole', () => {
    const attention = [[[[1, 0], [0.25, 0.75]]], [[[1, 0], [0.6, 0.4]]]];
    const t = thumbnailsOf(attention, 1);
    expect(t.factor).toBe(2);
    expect(t.cells.map((layer) => layer.map(rows))).toEqual([[[[1]]], [[[1]]]]);
    expect(rows(thumbnailsOf(attention, 2).cells[0][0])).toEqual([[1, 0], [0.25, 0.75]]);
  });

  it('views a flat buffer as rows without copying', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const [a, b] = splitRows(data, 2, 2, 4);
    expect([...a, ...b]).toEqual([5, 6, 7, 8]);
    a[0] = 9;
    expect(data[4]).toBe(9);
  });
});
