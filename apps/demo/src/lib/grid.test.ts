import { describe, expect, it } from 'vitest';
import { cellOrigin, describeKvGroups, hitCell, kvGroups, layoutGrid } from './grid.js';

describe('the grid of layers x heads', () => {
  it("sizes GPT-2's 12 x 12 heads to the width, and finds the cell under the pointer", () => {
    const g = layoutGrid(12, 12, 900);
    expect([g.cell, g.width, g.height]).toEqual([64, 900, 858]); // (900 - 60) / 12 - 6 = 64; 60 + 12·70; 18 + 12·70
    expect(cellOrigin(g, 2, 3)).toEqual({ x: 270, y: 158 });
    expect(hitCell(g, 280, 170)).toEqual({ layer: 2, head: 3 });
    expect(hitCell(g, 60 + 64 + 2, 30)).toBeNull(); // the gap between heads 0 and 1
    expect(hitCell(g, 20, 30)).toBeNull(); // the labels
    expect(layoutGrid(2, 2, 900).cell).toBe(120); // few heads: at most 120 px
  });

  it('groups query heads by the KV head they share, with a row of labels above the heads', () => {
    expect(kvGroups([0, 0, 1, 1])).toEqual([{ kv: 0, heads: [0, 1] }, { kv: 1, heads: [2, 3] }]);
    expect(describeKvGroups([0, 0, 0, 0])).toBe('KV 0: heads 0–3'); // Mistral's fixture: one KV head
    expect(describeKvGroups([0, 1])).toBe('KV 0: head 0; KV 1: head 1'); // plain multi-head attention
    expect(layoutGrid(2, 4, 900, { kvRow: true }).top).toBe(38);
    expect(cellOrigin(layoutGrid(2, 4, 900, { kvRow: true }), 1, 0).y).toBe(38 + 126); // cells of 120 + the gap of 6
  });
});
