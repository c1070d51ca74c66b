import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, initBackend } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { sinusoidalEncoding, sinusoidalTable } from './sinusoidal.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

// The formula, written out independently of the implementation.
const pe = (pos: number, j: number, d: number) => {
  const i = Math.floor(j / 2);
  const angle = pos / Math.pow(10000, (2 * i) / d);
  return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
};

describe('sinusoidalEncoding', () => {
  it('matches the formula in float64 at many positions, large ones included', async () => {
    const d = 64;
    const maxLen = 20000;
    const table = sinusoidalTable(maxLen, d);
    const pe32 = sinusoidalEncoding(maxLen, d);
    const values = await pe32.data();
    pe32.dispose();
    for (const pos of [0, 1, 2, 3, 7, 63, 64, 100, 511, 1000, 4095, 10000, 19999]) {
      for (let j = 0; j < d; j++) {
        const want = pe(pos, j, d);
        expect(Math.abs(table[pos * d + j] - want)).toBeLessThan(1e-12);
        // float32 rounding of a value in [-1, 1]: at most half an ulp of 1, 6e-8.
        expect(Math.abs(values[pos * d + j] - want)).toBeLessThan(6e-8);
      }
    }
    // Hand-checked values: PE(0) = [0, 1, 0, 1, ...]; PE(1, 0) = sin 1; PE(1, 1) = cos 1.
    expect(Array.from(values.slice(0, 4))).toEqual([0, 1, 0, 1]);
    expect(values[d]).toBeCloseTo(Math.sin(1), 7);
    expect(values[d + 1]).toBeCloseTo(Math.cos(1), 7);
  });

  it('PE(pos + k) is a fixed rotation of PE(pos), one per frequency', () => {
    const d = 16;
    const table = sinusoidalTable(600, d);
    for (const k of [1, 5, 37]) {
      for (const pos of [0, 3, 100, 555]) {
        for (let i = 0; i < d / 2; i++) {
          const w = 1 / Math.pow(10000, (2 * i) / d);
          // [sin(w(p+k)), cos(w(p+k))] = [[cos wk, sin wk], [-sin wk, cos wk]] [sin wp, cos wp]
          const [s, c] = [table[pos * d + 2 * i], table[pos * d + 2 * i + 1]];
          const [s2, c2] = [table[(pos + k) * d + 2 * i], table[(pos + k) * d + 2 * i + 1]];
          expect(s2).toBeCloseTo(Math.cos(w * k) * s + Math.sin(w * k) * c, 10);
          expect(c2).toBeCloseTo(-Math.sin(w * k) * s + Math.cos(w * k) * c, 10);
        }
      }
    }
  });

  it('odd dModel: the last column is the unpaired sine, the exponent divides by dModel', () => {
    const d = 7;
    const table = sinusoidalTable(50, d);
    for (const pos of [0, 1, 13, 49]) for (let j = 0; j < d; j++) expect(table[pos * d + j]).toBeCloseTo(pe(pos, j, d), 12);
    expect(table[1 * d + 6]).toBeCloseTo(Math.sin(1 / Math.pow(10000, 6 / 7)), 12);
  });

  it('has the right shape, leaks nothing, and rejects bad sizes', async () => {
    await expectNoLeak(() => {
      const t = sinusoidalEncoding(10, 6);
      expect(t.shape).toEqual([10, 6]);
      t.dispose();
    });
    expect(() => sinusoidalEncoding(0, 4)).toThrow(ShapeError);
    expect(() => sinusoidalEncoding(4, 2.5)).toThrow('dModel must be a positive integer, found 2.5');
  });
});
