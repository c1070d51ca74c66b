import { describe, expect, it } from 'vitest';
import { absMax, dot } from './positional.js';

describe('plot helpers', () => {
  it('dot and absMax: hand-computed', () => {
    expect(dot([1, 2, 3], [4, -5, 6])).toBe(12);
    expect(absMax([[0.5, -2], [1.5, 0]])).toBe(2);
    expect(absMax([[0, 0]])).toBe(1); // a blank picture keeps a usable scale
  });
});
