import { describe, expect, it } from 'vitest';
import { Rng, ValueError } from '@tx/core';
import { TokenDataset, seq2seqBatch } from './data.js';

describe('TokenDataset', () => {
  const tokens = Array.from({ length: 100 }, (_, i) => i);

  it('splits 90/10 and draws windows whose targets are the inputs shifted by one', () => {
    const ds = new TokenDataset(tokens);
    expect([ds.train.length, ds.val.length]).toEqual([90, 10]);
    const { x, y } = ds.batch('train', 4, 8, new Rng(1));
    for (let b = 0; b < 4; b++) {
      const row = Array.from(x.subarray(b * 8, b * 8 + 8));
      expect(row).toEqual(row.map((_, i) => row[0] + i)); // a contiguous window
      expect(row[7]).toBeLessThan(89); // inside the train split: the last target is at most token 89
      expect(Array.from(y.subarray(b * 8, b * 8 + 8))).toEqual(row.map((t) => t + 1));
    }
  });

  it('repeats batches under a seed', () => {
    const ds = new TokenDataset(tokens);
    expect(ds.batch('train', 3, 5, new Rng(9)).x).toEqual(ds.batch('train', 3, 5, new Rng(9)).x);
  });

  it('gives clear errors for empty and too-short data', () => {
    expect(() => new TokenDataset([], { name: 'names.txt' })).toThrow('names.txt is empty');
    expect(() => new TokenDataset(tokens).batch('val', 1, 10, new Rng(1))).toThrow(
      'the val split has 10 tokens, fewer than context + 1 = 11',
    );
    expect(() => new TokenDataset(tokens, { trainFraction: 0 })).toThrow(ValueError);
    expect(() => new TokenDataset(tokens, { trainFraction: 0 })).toThrow('trainFraction must be in (0, 1], got 0');
  });
});

describe('seq2seqBatch', () => {
  it('pads sources and targets, adds bos/eos and masks', () => {
    const b = seq2seqBatch([[[5, 6, 7], [8]], [[9], [10, 11]]], { padId: 0, bosId: 1, eosId: 2 });
    expect([b.srcLength, b.tgtLength]).toEqual([3, 3]);
    expect(Array.from(b.src)).toEqual([5, 6, 7, 9, 0, 0]);
    expect(Array.from(b.srcMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(b.tgtIn)).toEqual([1, 8, 0, 1, 10, 11]);
    expect(Array.from(b.tgtOut)).toEqual([8, 2, 0, 10, 11, 2]);
    expect(Array.from(b.tgtMask)).toEqual([1, 1, 0, 1, 1, 1]);
  });
});
