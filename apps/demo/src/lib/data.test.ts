import { describe, expect, it } from 'vitest';
import { InspectFormatError, displayToken, parseInspect, shape } from './data.js';

const uniform = (L: number, H: number, T: number) => Array.from({ length: L }, () => Array.from({ length: H }, () => Array.from({ length: T }, () => Array(T).fill(1 / T))));

describe('parseInspect', () => {
  it('accepts `tx inspect --json` output, as text or object', () => {
    const json = { tokens: ['a', 'b', 'c'], ids: [1, 2, 3], attention: uniform(2, 4, 3), logits: [[0]], loss: 1.5 };
    const data = parseInspect(JSON.stringify(json));
    expect(shape(data.attention)).toEqual({ layers: 2, heads: 4, queries: 3, keys: 3 });
    expect(data.loss).toBe(1.5);
    expect(parseInspect(json).ids).toEqual([1, 2, 3]);
  });

  it("reads a Llama's kvHeads (the KV head of each query head), one per head", () => {
    const json = { tokens: ['a', 'b'], ids: [1, 2], attention: uniform(1, 4, 2), kvHeads: [0, 0, 1, 1] };
    expect(parseInspect(json).kvHeads).toEqual([0, 0, 1, 1]);
    expect(() => parseInspect({ ...json, kvHeads: [0, 1] })).toThrow('"kvHeads": expected the KV head of each of the 4 query heads, found [0,1]');
  });

  it('names the field and the mismatch', () => {
    const bad = { tokens: ['a', 'b'], ids: [1, 2], attention: [[[[1, 0]]]] };
    expect(() => parseInspect(bad)).toThrow(InspectFormatError);
    expect(() => parseInspect(bad)).toThrow('"attention"[0][0]: expected 2 query rows, found 1');
    expect(() => parseInspect({ tokens: ['a'], ids: [1, 2], attention: uniform(1, 1, 1) })).toThrow('"ids": expected 1 ids');
    expect(() => parseInspect({ tokens: 'abc' })).toThrow('"tokens"');
  });

  it('reads an encoder-decoder\'s cross-attention with its source tokens', () => {
    const cross = [[[[0.5, 0.5, 0], [0, 0, 1]]]];
    const data = parseInspect({ tokens: ['x', 'y'], ids: [0, 1], attention: uniform(1, 1, 2), cross, sourceTokens: ['1', '2', '3'] });
    expect(shape(data.cross!)).toEqual({ layers: 1, heads: 1, queries: 2, keys: 3 });
    expect(() => parseInspect({ tokens: ['x', 'y'], ids: [0, 1], attention: uniform(1, 1, 2), cross, sourceTokens: ['1', '2'] })).toThrow('"cross"[0][0][0]: expected 2 keys, found 3');
  });
});

describe('parseInspect: a coref model', () => {
  it('reads the pronoun, the referent and the coref head, and names a bad one', () => {
    const json = { tokens: ['the', 'animal', 'was', 'it'], ids: [4, 11, 74, 38], attention: uniform(2, 4, 4), pronoun: 3, referent: { index: 1, token: 'animal', p: 0.99 }, corefHead: [1, 0] };
    const data = parseInspect(json);
    expect([data.pronoun, data.referent, data.corefHead]).toEqual([3, { index: 1, token: 'animal', p: 0.99 }, [1, 0]]);
    expect(() => parseInspect({ ...json, pronoun: 4 })).toThrow('"pronoun": expected an index below 4, found 4');
    expect(() => parseInspect({ ...json, corefHead: [2, 0] })).toThrow('"corefHead[0]": expected an index below 2, found 2');
    expect(() => parseInspect({ ...json, referent: { index: 1 } })).toThrow('"referent": expected { index, token, p }');
  });
});

describe('displayToken', () => {
  it('makes whitespace visible', () => {
    expect(displayToken(' ')).toBe('␣');
    expect(displayToken('\n')).toBe('⏎');
    expect(displayToken(' the')).toBe('·the');
    expect(displayToken('cat')).toBe('cat');
  });
});
