import { describe, expect, it } from 'vitest';
import { ValueError } from './errors.js';
import { Rng } from './rng.js';

describe('Rng (xoshiro128**)', () => {
  it('matches xoshiro128** outputs computed by hand from state [1, 2, 3, 4]', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    // out1 = rotl(2*5, 7)*9 = 11520; the state becomes [7, 0, 1026, 12288]; out2 = rotl(0, 7)*9 = 0;
    // then [12295, 1029, 1029, 25165824] and out3 = rotl(1029*5, 7)*9 = 5927040.
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('continues exactly from a saved state', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) rng.random();
    const state = rng.getState();
    const expected = [rng.random(), rng.int(10), rng.normal(), rng.normal()];
    const resumed = Rng.fromState(state);
    expect([resumed.random(), resumed.int(10), resumed.normal(), resumed.normal()]).toEqual(expected);
  });

  it('int(n) stays in range and hits every value about equally often', () => {
    const rng = new Rng(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    // Expected 10,000 each; a fair generator is within ~4 standard deviations (4 * 92).
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('normal() has mean 0 and variance 1', () => {
    const rng = new Rng(3);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sumSq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.015);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.02);
  });

  it('rejects bad seeds, states and ranges with a ValueError and a message', () => {
    expect(() => new Rng(Number.NaN)).toThrow(ValueError);
    expect(() => new Rng(Number.NaN)).toThrow('Rng seed must be a finite number, got NaN');
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(ValueError);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow('Rng state must not be all zeros');
    expect(() => Rng.fromState([1, 2, 3] as never)).toThrow('Rng state must be four unsigned 32-bit integers, got [1,2,3]');
    expect(() => new Rng(1).int(0)).toThrow(ValueError);
    expect(() => new Rng(1).int(0)).toThrow('Rng.int needs an integer n in [1, 2^32], got 0');
  });
});
