import { describe, expect, it } from 'vitest';
import { attentionLines, defaultLineOptions, strongestKeys, toggleHead } from './lines.js';

// One layer, two heads, three tokens (causal rows).
const A = [[
  [[1, 0, 0], [0.9, 0.1, 0], [0.2, 0.3, 0.5]],
  [[1, 0, 0], [0.5, 0.5, 0], [0.0, 0.0, 1.0]],
]];

describe('attentionLines', () => {
  it('draws one line per lit pair, brightest last, skipping zeros', () => {
    const lines = attentionLines(A, { layer: 0, heads: [0, 1] });
    const pairs = lines.map((l) => `${l.query}-${l.key}`);
    expect(pairs).not.toContain('0-1');
    expect(pairs).toHaveLength(6);
    expect(lines.at(-1)!.alpha).toBe(1);
    for (let i = 1; i < lines.length; i++) expect(lines[i].alpha).toBeGreaterThanOrEqual(lines[i - 1].alpha);
  });

  it('uses only the selected heads', () => {
    const lines = attentionLines(A, { layer: 0, heads: [1] });
    expect(lines.map((l) => `${l.query}-${l.key}`).sort()).toEqual(['0-0', '1-0', '1-1', '2-2']);
    expect(attentionLines(A, { layer: 0, heads: [] })).toEqual([]);
    expect(attentionLines(A, { layer: 5, heads: [0] })).toEqual([]);
  });

  it('filters to a hovered token: its outgoing lines on the left, incoming on the right', () => {
    const out = attentionLines(A, { layer: 0, heads: [0, 1], focus: { token: 2, side: 'left' } });
    expect(out.every((l) => l.query === 2)).toBe(true);
    expect(out).toHaveLength(3);
    const incoming = attentionLines(A, { layer: 0, heads: [0, 1], focus: { token: 0, side: 'right' } });
    expect(incoming.every((l) => l.key === 0)).toBe(true);
    expect(incoming.map((l) => l.query).sort()).toEqual([0, 1, 2]);
  });

  it('keeps the top-k keys per query above a threshold', () => {
    const lines = attentionLines(A, { layer: 0, heads: [0], topK: 1, threshold: 0.15 });
    expect(lines.map((l) => `${l.query}-${l.key}`).sort()).toEqual(['0-0', '1-0', '2-2']);
  });

  it('stays bounded at 512 tokens, 12 heads (its speed is the bench\'s: pnpm --filter @tx/demo bench)', () => {
    const T = 512, H = 12;
    const layer = Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, q) => {
      const row = new Array(T).fill(0);
      for (let k = 0; k <= q; k++) row[k] = 1 / (q + 1);
      row[Math.max(0, q - 1 - h)] += 0.5; // each head also looks a fixed distance back
      return row;
    }));
    const opts = defaultLineOptions(T);
    const lines = attentionLines([layer], { layer: 0, heads: Array.from({ length: H }, (_, h) => h), ...opts });
    expect(lines.length).toBeLessThanOrEqual(T * opts.topK);
    expect(lines.length).toBeGreaterThan(T);
  });
});

describe('strongestKeys', () => {
  it('picks the k largest scores at or above the minimum, strongest first, the earlier key first on ties', () => {
    const s = [0.1, 0.5, 0.3, 0.5, -1, 0.2];
    expect(strongestKeys(s, 2)).toEqual([1, 3]);
    expect(strongestKeys(s, 3, 0.25)).toEqual([1, 3, 2]);
    expect(strongestKeys(s, 10, 0)).toEqual([1, 3, 2, 5, 0]);
    expect(strongestKeys(new Float32Array(s), 1, 0.5)).toEqual([1]);
    expect(strongestKeys(s, 0)).toEqual([]);
    expect(strongestKeys(s, 2, 0.9)).toEqual([]);
  });
});

describe('attentionLines at 1,024 tokens', () => {
  // One head over rows held as Float32Arrays (as a GPT's layer is read back): query q puts 0.6
  // on itself, 0.3 on the token before and 0.1 on the first; query 1 puts 0.6 on itself, 0.4 on 0.
  const T = 1024;
  const head = Array.from({ length: T }, (_, q) => {
    const row = new Float32Array(T);
    if (q === 0) row[0] = 1;
    else if (q === 1) [row[0], row[1]] = [0.4, 0.6];
    else [row[0], row[q - 1], row[q]] = [0.1, 0.3, 0.6];
    return row;
  });

  it('draws the 3 strongest keys of each query above 0.05', () => {
    const opts = defaultLineOptions(T);
    expect(opts).toEqual({ threshold: 0.05, topK: 3 });
    const lines = attentionLines([[head]], { layer: 0, heads: [0], ...opts });
    expect(lines).toHaveLength(1 + 2 + 1022 * 3);
    const q500 = attentionLines([[head]], { layer: 0, heads: [0], ...opts, focus: { token: 500, side: 'left' } });
    expect(q500.map((l) => [l.key, Math.round(l.alpha * 100) / 100])).toEqual([[0, 0.1], [499, 0.3], [500, 0.6]]);
    expect(attentionLines([[head]], { layer: 0, heads: [0], ...opts, topK: 1 })).toHaveLength(T);
    // The first token is looked at by every query: 1,023 lines and its own.
    expect(attentionLines([[head]], { layer: 0, heads: [0], ...opts, focus: { token: 0, side: 'right' } })).toHaveLength(T);
  });
});

describe('toggleHead', () => {
  it('adds and removes, sorted', () => {
    expect(toggleHead([0, 2], 1)).toEqual([0, 1, 2]);
    expect(toggleHead([0, 1, 2], 1)).toEqual([0, 2]);
  });
});

describe('dimmed heads', () => {
  it('count a quarter of their weight in brightness and colour', () => {
    // One query, one key; head 0 at 0.8, head 1 at 0.4.
    const attention = [[[[0.8]], [[0.4]]]];
    const [plain] = attentionLines(attention, { layer: 0, heads: [0, 1] });
    expect(plain.alpha).toBeCloseTo(1 - 0.2 * 0.6, 6);
    const [dim] = attentionLines(attention, { layer: 0, heads: [0, 1], dimmed: [1] });
    expect(dim.alpha).toBeCloseTo(1 - 0.2 * 0.9, 6); // head 1 lights at 0.1
    expect(dim.max).toBeCloseTo(0.8, 6);
  });
});

