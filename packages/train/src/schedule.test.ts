// The schedules' values are tested with AdamW (adamw.test.ts); here, their bad input.
import { describe, expect, it } from 'vitest';
import { ValueError } from '@tx/core';
import { cosineWithWarmup } from './schedule.js';

describe('schedules', () => {
  it('cosineWithWarmup rejects a decay that ends before warm-up does, with a ValueError', () => {
    const bad = () => cosineWithWarmup({ lr: 1e-3, minLr: 1e-4, warmupIters: 100, decayIters: 100 });
    expect(bad).toThrow(ValueError);
    expect(bad).toThrow('cosineWithWarmup: decayIters (100) must exceed warmupIters (100)');
  });
});
