// The README's first example, run: a plain function as the model, decoded by
// generate, streamTokens and beamSearch without tfjs. This file imports only
// the package's index (and @tx/core's Rng and ValueError, from files that import
// no tfjs), so if anything on that path loaded tfjs, its engine would be on globalThis.
import { describe, expect, it } from 'vitest';
import { TxError, ValueError } from '@tx/core/errors';
import { Rng } from '@tx/core/rng';
import { beamSearch, generate, sample, softmax, streamTokens, type LanguageModel } from './index.js';

// --- the README's example, as written there ---
const L = Math.log;
const table = [[L(0.1), L(0.9)], [L(0.6), L(0.4)]]; // a bigram "model": logits depend on the last id
const nextLogits = (ids: readonly number[]) => Float32Array.from(table[ids[ids.length - 1]]);

function fromFunction(next: (ids: readonly number[]) => Float32Array, vocabSize: number, blockSize: number): LanguageModel {
  const session = (ids: number[]) => ({
    async feed(newIds: readonly number[]) {
      ids.push(...newIds);
      return { logits: next(ids) };
    },
    fork: () => session([...ids]),
    dispose() {},
  });
  return { vocabSize, blockSize, startSession: () => session([]) };
}
const model = fromFunction(nextLogits, 2, 16);
// --- end of the example ---

describe('a plain function as the model (the README example)', () => {
  it('greedy decoding follows the table: 0 -> 1 (0.9), 1 -> 0 (0.6)', async () => {
    const tokens = [];
    for await (const token of streamTokens(model, [0], { greedy: true, maxNewTokens: 3 })) tokens.push(token);
    expect(tokens.map((t) => t.id)).toEqual([1, 0, 1]);
    expect(tokens.map((t) => t.logprob)).toEqual([L(0.9), L(0.6), L(0.9)].map((v) => expect.closeTo(v, 6)));
  });

  it('beam search finds [1, 0]: log(0.9 · 0.6) / 2 = -0.308 beats [0] (log 0.1 = -2.303) and [1, 1, 0] (-0.511)', async () => {
    const out = await beamSearch(model, [0], { beams: 2, eosId: 0, maxNewTokens: 5 });
    expect(out.ids).toEqual([1, 0]);
    expect(out.score).toBeCloseTo(Math.log(0.9 * 0.6) / 2, 6);
  });

  it('samples with a seed: the same seed the same ids, each drawn by sample() from the same Rng stream', async () => {
    const options = { temperature: 0.8, topK: 2, seed: 7, maxNewTokens: 10 };
    const out = await generate(model, [0], options);
    expect((await generate(model, [0], options)).ids).toEqual(out.ids);
    // Replay by hand: softmax of logits / 0.8 (top-2 of 2 keeps both), one draw of Rng(7) per token.
    const rng = new Rng(7);
    const ids = [0];
    for (let n = 0; n < 10; n++) ids.push(sample(softmax(nextLogits(ids).map((v) => v / 0.8)), rng));
    expect(out.ids).toEqual(ids.slice(1));
    expect(out.finishReason).toBe('length');
  });

  it('rejects a bad value with @tx/core\'s ValueError, a TxError', async () => {
    await expect(generate(model, [0], { temperature: -1 })).rejects.toThrow(ValueError);
    await expect(generate(model, [0], { temperature: -1 })).rejects.toThrow(TxError);
    await expect(generate(model, [0], { topP: 0 })).rejects.toThrow('topP needs p in (0, 1], got 0');
  });

  it('loads no tfjs: its engine is not on globalThis', () => {
    expect(Object.keys(globalThis).filter((k) => k.startsWith('_tf'))).toEqual([]);
  });
});
