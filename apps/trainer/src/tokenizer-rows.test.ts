// withinTokenizer: a model with more embedding rows than tokens (Qwen2's
// padding) is sampled only among the tokens; the same model otherwise.
import { describe, expect, it } from 'vitest';
import type { DecodingSession, LanguageModel } from '@tx/core';
import { withinTokenizer } from './tokenizer-rows.js';

/** A model of 6 rows whose likeliest rows, 4 and 5, are past a 4-token tokenizer's last. */
function model(): LanguageModel & { disposed: number } {
  const m = {
    vocabSize: 6,
    blockSize: 8,
    disposed: 0,
    startSession(): DecodingSession {
      const session: DecodingSession = {
        feed: async () => ({ logits: Float32Array.from([0.1, 0.2, 0.3, 0.4, 5, 9]) }),
        fork: () => session,
        dispose: () => {},
      };
      return session;
    },
    dispose() {
      m.disposed++;
    },
  };
  return m;
}

describe('withinTokenizer', () => {
  it('gives the rows past the tokenizer -Infinity, in forks too, and disposes the model it wraps', async () => {
    const inner = model();
    const lm = withinTokenizer(inner, 4);
    expect([lm.vocabSize, lm.blockSize]).toEqual([6, 8]);
    const session = lm.startSession();
    expect(Array.from((await session.feed([1])).logits)).toEqual([0.1, 0.2, 0.3, 0.4, -Infinity, -Infinity].map(Math.fround));
    expect(Array.from((await session.fork().feed([1])).logits).slice(4)).toEqual([-Infinity, -Infinity]);
    lm.dispose?.();
    expect(inner.disposed).toBe(1);
  });

  it('is the model itself when every row is a token', () => {
    const inner = model();
    expect(withinTokenizer(inner, 6)).toBe(inner);
  });
});
