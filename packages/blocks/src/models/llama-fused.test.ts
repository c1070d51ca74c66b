// Llama, Mistral and Qwen2 through @tx/core's fused wasm decoder (RMSNorm,
// RoPE, grouped-query attention, the SiLU gate, q, k and v apart, Qwen2's
// biases and tied head, Mistral's window of 5): no tfjs kernel runs per feed,
// the logits equal PyTorch's (tooling/fixtures/hf_llama.py) and tfjs's forward
// to 1e-4, and the 24 greedy tokens equal PyTorch's, the prompt fed in one
// call or one token at a time; past a shortened context, 'crop' and 'restart'
// give each step the logits of the window they promise; no wasm allocation
// stays behind.
import { readFileSync } from 'node:fs';
import { Rng, initBackend, tf } from '@tx/core';
import { expectNoLeak, maxAbsDifference as maxDiff, wasmAllocations } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtures, loadFixture } from '../../test/hf-llama.js';
import type { Llama } from './llama.js';

interface Reference {
  prompt_ids: number[];
  logits: number[][];
  generated: number[];
}
const reference = JSON.parse(readFileSync(new URL('reference.json', fixtures), 'utf8')) as Record<string, Reference>;
const ARCHS = ['llama', 'mistral', 'qwen2'] as const;


/** tfjs's batched forward: the logits after the last id of `ids`. */
function lastLogits(model: Llama, ids: number[]): Float32Array {
  return tf.tidy(() => tf.slice(model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).logits, [0, ids.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array);
}

/** The names of the tfjs kernels that one feed runs. */
const kernelsOf = async (feed: () => Promise<unknown>) => (await tf.profile(async () => (await feed(), []))).kernels.map((k) => k.name);
const argmax = (logits: Float32Array) => logits.indexOf(Math.max(...logits));

describe('Llama family through the fused wasm decoder', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    return async () => {
      await initBackend({ prefer: 'cpu' });
    };
  });

  it.each(ARCHS)('%s: no tfjs kernel per feed; logits equal PyTorch and tfjs to 1e-4; 24 greedy tokens, the prompt in one feed or token by token', async (arch) => {
    const ref = reference[arch];
    const model = await loadFixture(arch);
    for (const oneFeed of [true, false]) {
      const session = model.startSession();
      const history = [...ref.prompt_ids];
      let logits: Float32Array = new Float32Array(0);
      const prompt = oneFeed ? [ref.prompt_ids] : ref.prompt_ids.map((id) => [id]);
      for (const ids of prompt) expect(await kernelsOf(async () => ({ logits } = await session.feed(ids)))).toEqual([]);
      expect(maxDiff(logits, ref.logits[1]!)).toBeLessThan(1e-4); // the fixture's last position
      const generated: number[] = [];
      for (let i = 0; i < 24; i++) {
        expect(maxDiff(logits, lastLogits(model, history)), `step ${i}`).toBeLessThan(1e-4);
        const id = argmax(logits);
        generated.push(id);
        history.push(id);
        ({ logits } = await session.feed([id]));
      }
      expect(generated).toEqual(ref.generated);
      session.dispose();
    }
    model.dispose();
  }, 120_000);

  it.each(ARCHS)("%s past a context of 12: 'crop' sees the last 12 ids, 'restart' 9 to 12, every step as tfjs's forward of that window", async (arch) => {
    const model = await loadFixture(arch, 12);
    for (const contextOverflow of ['crop', 'restart'] as const) {
      const session = model.startSession({ contextOverflow });
      const history = [1, 2, 3];
      let { logits } = await session.feed(history);
      let window = 3;
      const rng = new Rng(4);
      for (let step = 0; step < 30; step++) {
        expect(maxDiff(logits, lastLogits(model, history.slice(-window))), `${contextOverflow} step ${step}`).toBeLessThan(1e-4);
        const id = rng.int(model.vocabSize);
        history.push(id);
        expect(await kernelsOf(async () => ({ logits } = await session.feed([id])))).toEqual([]);
        window = window < 12 ? window + 1 : contextOverflow === 'crop' ? 12 : 9; // restart recomputes the last ceil(3/4 of 12) ids, this one included
      }
      session.dispose();
    }
    model.dispose();
  }, 120_000);

  it('leaves no wasm allocation and no tensor behind, forks included', async () => {
    const model = await loadFixture('mistral', 12);
    const run = async () => {
      const s = model.startSession({ contextOverflow: 'restart' });
      await s.feed([1, 2, 3]);
      for (let i = 0; i < 14; i++) await s.feed([i]);
      s.fork().dispose();
      s.dispose();
    };
    await run();
    const { outstanding } = await wasmAllocations(() => expectNoLeak(async () => {
      for (let i = 0; i < 20; i++) await run();
    }, { label: '20 fused Llama sessions' }));
    expect(outstanding).toBe(0);
    model.dispose();
  }, 120_000);
});
