import { describe, expect, it } from 'vitest';
import { absMax, dot, rotaryAngles, rotate, sinusoidalMatrix } from './positional.js';

describe('sinusoidal', () => {
  it('matches the paper\'s formula', () => {
    const pe = sinusoidalMatrix(50, 16);
    expect(pe[0].filter((_, i) => i % 2 === 0)).toEqual(Array(8).fill(0));
    expect(pe[0].filter((_, i) => i % 2 === 1)).toEqual(Array(8).fill(1));
    expect(pe[7][4]).toBeCloseTo(Math.sin(7 / 10000 ** (4 / 16)));
    expect(pe[7][5]).toBeCloseTo(Math.cos(7 / 10000 ** (4 / 16)));
    expect(absMax(pe)).toBeLessThanOrEqual(1);
  });
});

describe('rotary', () => {
  it('rotates pairs by pos·θ_i, keeping length', () => {
    const x = [1, 0, 0.5, 0.5];
    const y = rotate(x, 3);
    expect(dot(y, y)).toBeCloseTo(dot(x, x));
    expect(y[0]).toBeCloseTo(Math.cos(3));
    expect(y[1]).toBeCloseTo(Math.sin(3));
    expect(rotaryAngles(4, 4)[3]).toEqual([3, 3 * 10000 ** -0.5]);
  });

  it('makes q·k depend only on the offset between positions', () => {
    const q = [0.3, -0.7, 1.1, 0.2], k = [0.9, 0.4, -0.5, 0.8];
    expect(dot(rotate(q, 5), rotate(k, 2))).toBeCloseTo(dot(rotate(q, 13), rotate(k, 10)));
  });
});

describe('agrees with @tx/positional', () => {
  it('sinusoidalMatrix equals sinusoidalTable', async () => {
    const { sinusoidalTable } = await import('@tx/positional');
    const table = sinusoidalTable(20, 12);
    const mine = sinusoidalMatrix(20, 12).flat();
    mine.forEach((x, i) => expect(x).toBeCloseTo(table[i], 12));
  });
});
