import { describe, expect, it } from 'vitest';
import { ValueError } from '@tx/core/errors';
import { applyProcessors, argmax, logSoftmax, repetitionPenalty, softmax, temperature, topIndices, topK, topP } from './processors.js';

const f = (xs: number[]) => Float32Array.from(xs);
const ctx = { ids: [] as number[] };

describe('logits processors', () => {
  it('temperature divides the logits', () => {
    expect(Array.from(temperature(0.5)(f([1, -2, 0]), ctx))).toEqual([2, -4, 0]);
    expect(() => temperature(0)).toThrow(ValueError);
    expect(() => temperature(0)).toThrow('temperature must be > 0, got 0 (use greedy decoding for t = 0)');
  });

  it('topK keeps the k largest, ties at the threshold included', () => {
    expect(Array.from(topK(2)(f([1, 5, 3, 2]), ctx))).toEqual([-Infinity, 5, 3, -Infinity]);
    expect(Array.from(topK(1)(f([2, 2, 1]), ctx))).toEqual([2, 2, -Infinity]);
    expect(Array.from(topK(10)(f([1, 2]), ctx))).toEqual([1, 2]);
  });

  it('topP keeps the smallest set reaching p', () => {
    // probabilities 0.5, 0.3, 0.2 (as logits: their logs)
    const logits = () => f([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    expect(Array.from(topP(0.5)(logits(), ctx)).map(Number.isFinite)).toEqual([true, false, false]);
    expect(Array.from(topP(0.79)(logits(), ctx)).map(Number.isFinite)).toEqual([true, true, false]);
    expect(Array.from(topP(0.81)(logits(), ctx)).map(Number.isFinite)).toEqual([true, true, true]);
  });

  it('repetitionPenalty makes seen tokens less likely, whatever their sign', () => {
    expect(Array.from(repetitionPenalty(2)(f([4, -4, 4]), { ids: [0, 1, 1] }))).toEqual([2, -8, 4]);
  });

  it('chains in order', () => {
    const out = applyProcessors([temperature(2), topK(1)], f([2, 6, 4]), ctx);
    expect(Array.from(out)).toEqual([-Infinity, 3, -Infinity]);
  });
});

describe('softmax helpers', () => {
  it('softmax and logSoftmax agree with the definitions', () => {
    const p = softmax(f([0, Math.log(3)]));
    expect(p[0]).toBeCloseTo(0.25, 7);
    expect(p[1]).toBeCloseTo(0.75, 7);
    const lp = logSoftmax(f([0, Math.log(3)]));
    expect(lp[1]).toBeCloseTo(Math.log(0.75), 7);
    expect(Array.from(softmax(f([1000, -Infinity])))).toEqual([1, 0]);
  });

  it('topIndices returns the n largest, largest first, lower index first on ties', () => {
    expect(topIndices([0.1, 0.5, 0.2, 0.5, 0.05], 3)).toEqual([1, 3, 2]);
    expect(topIndices([3, 1], 5)).toEqual([0, 1]);
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const bySort = Array.from(values.keys()).sort((a, b) => values[b] - values[a] || a - b).slice(0, 7);
    expect(topIndices(values, 7)).toEqual(bySort);
  });

  it('argmax picks the first maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
  });
});
