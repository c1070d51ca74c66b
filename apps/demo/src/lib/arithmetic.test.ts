import { describe, expect, it } from 'vitest';
import { fmt, maxDiff, negativeWinner, projectRow, softmaxRow, tokenArithmetic } from './arithmetic.js';

describe('tokenArithmetic', () => {
  const K = [[1, 0], [0, 1], [1, 1]];
  const V = [[1, 2], [3, 4], [5, 6]];
  it('scores, scales by √d_k, softmaxes and sums V', () => {
    const r = tokenArithmetic([2, 0], K, V, { query: 2, causal: true });
    expect(r.scores).toEqual([2, 0, 2]);
    expect(r.scaled[0]).toBeCloseTo(2 / Math.SQRT2);
    expect(r.weights.reduce((a, b) => a + b)).toBeCloseTo(1);
    expect(r.weights[0]).toBeCloseTo(r.weights[2]);
    const expected = [0, 1].map((d) => r.weights.reduce((s, w, j) => s + w * V[j][d], 0));
    expect(r.output[0]).toBeCloseTo(expected[0]);
    expect(r.output[1]).toBeCloseTo(expected[1]);
  });

  it('masks future keys in a causal model', () => {
    const r = tokenArithmetic([2, 0], K, V, { query: 0, causal: true });
    expect(r.scaled.slice(1)).toEqual([-Infinity, -Infinity]);
    expect(r.weights).toEqual([1, 0, 0]);
    expect(r.output).toEqual([1, 2]);
  });

  it("masks keys past Mistral's sliding window: query 2 with a window of 2 sees keys 1 and 2", () => {
    const r = tokenArithmetic([2, 0], K, V, { query: 2, causal: true, window: 2 });
    expect(r.scaled[0]).toBe(-Infinity);
    expect(r.weights[1]).toBeCloseTo(1 / (1 + Math.exp(Math.SQRT2))); // scaled scores 0 and 2/√2 = √2
    expect(r.weights[2]).toBeCloseTo(Math.exp(Math.SQRT2) / (1 + Math.exp(Math.SQRT2)));
  });

  it('softmax is stable for large scores', () => {
    expect(softmaxRow([1000, 1000])).toEqual([0.5, 0.5]);
    expect(fmt(-Infinity)).toBe('−∞');
    expect(fmt(-0.5)).toBe('−0.50');
  });
});

describe('negativeWinner', () => {
  it('explains a negative score that wins, and says nothing for a positive one', () => {
    const scaled = [-4.94, -7.5, -9];
    const weights = softmaxRow(scaled);
    expect(weights[0]).toBeGreaterThan(0.9); // e^-4.94 / (e^-4.94 + e^-7.5 + e^-9) = 0.91
    expect(negativeWinner(scaled, weights, ['animal', 'it', 'street'])).toBe(
      'The winning score for “animal” is negative (−4.94) and still wins: softmax only compares scores. Every other score is lower (the next is −7.50), so e^−4.94 is the largest of the e^s once they are divided by their sum.',
    );
    expect(negativeWinner([1, -2], softmaxRow([1, -2]), ['a', 'b'])).toBeNull();
    expect(negativeWinner(scaled, weights, ['animal', 'it', 'street'], [-13.97, -21.2, -25.5])).toMatch(/^The winning score for “animal” is negative \(q·k = −13\.97, −4\.94 after ÷ √d_k\) and still wins/);
  });
});

describe('projectRow', () => {
  it('computes x·W + b over a head\'s columns of a fused projection, by hand', () => {
    // C = 2, two heads of d = 1 for each of q, k, v: W is [2][6].
    const W = [[1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]];
    const b = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    expect(projectRow([1, 0.1], W, b)).toEqual([2.5, 4.5, 6.5, 8.5, 10.5, 12.5].map((x) => expect.closeTo(x, 12)));
    expect(projectRow([1, 0.1], W, null, 2, 4)).toEqual([6, 8].map((x) => expect.closeTo(x, 12))); // the k columns: 3 + 3, 4 + 4
    expect(maxDiff([1, 2, 3], [1, 2.5, 2.9])).toBeCloseTo(0.5, 12);
  });
});
