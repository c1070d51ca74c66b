// The generic pieces every package builds on: Dropout, ModuleDict, the error base.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Dropout, dropout } from './dropout.js';
import { ShapeError, TxError, ValueError } from './errors.js';
import { Linear } from './linear.js';
import { ModuleDict } from './module.js';
import { Rng } from './rng.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('Dropout', () => {
  it('is seeded, inverted, and the identity in eval mode', () => {
    const x = tf.ones([1000]);
    const a = Array.from(new Dropout(0.25, new Rng(5)).forward(x).dataSync());
    expect(Array.from(new Dropout(0.25, new Rng(5)).forward(x).dataSync())).toEqual(a);
    const kept = a.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    // 1000 draws with p = 0.25: 750 kept on average, sd 13.7; 700..800 is beyond 3.6 sd.
    expect(kept.length).toBeGreaterThan(700);
    expect(kept.length).toBeLessThan(800);
    // Mask i is kept iff the Rng's i-th draw is >= p: the same stream as the function.
    const rng = new Rng(5);
    expect(a.map((v) => v !== 0)).toEqual(Array.from({ length: 1000 }, () => rng.random() >= 0.25));
    const d = new Dropout(0.5, new Rng(5)).eval();
    expect(d.forward(x)).toBe(x);
    expect(dropout(x, 0, new Rng(1))).toBe(x);
    expect(() => new Dropout(1, new Rng(1))).toThrow(new ValueError('Dropout: p must be in [0, 1), got 1'));
    x.dispose();
  });
});

describe('ModuleDict', () => {
  it('names its children as torch.nn.ModuleDict', () => {
    const dict = new ModuleDict();
    dict.add('wte', new Linear(2, 3, { rng: new Rng(1), bias: false }));
    dict.add('head', new Linear(3, 2, { rng: new Rng(1) }));
    expect(dict.namedParameters('transformer.').map(([n]) => n)).toEqual(['transformer.wte.weight', 'transformer.head.weight', 'transformer.head.bias']);
    dict.dispose();
  });
});

describe('TxError', () => {
  it('is the base of every @tx error, including branded ones from packages without tfjs (@tx/tokenizer)', () => {
    class Branded extends Error {}
    (Branded.prototype as unknown as Record<symbol, unknown>)[Symbol.for('@tx/error')] = true;
    expect(new Branded('x') instanceof TxError).toBe(true);
    expect(new Error('x') instanceof TxError).toBe(false);
    expect(new ShapeError('x') instanceof TxError).toBe(true);
    expect(new ShapeError('x') instanceof ValueError).toBe(false);
    expect(new Branded('x') instanceof ShapeError).toBe(false);
    expect(new ValueError('x').name).toBe('ValueError');
  });
});
