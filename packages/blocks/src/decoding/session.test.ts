// Decoding sessions: the one policy for text past the context, and greedy
// translation of a batch equal to one example at a time.
import { Rng, ValueError, initBackend, tf, type StepOutput } from '@tx/core';
import { expectNoLeak, maxAbsDifference, wasmAllocations } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { seq2seqConfig } from '../models/config.js';
import { EncoderDecoderTransformer } from '../models/encoder-decoder.js';
import { GPT } from '../models/gpt.js';
import { greedyTranslate } from './greedy.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const small = () => new GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, { rng: new Rng(21) }).eval();

/** The logits after the last of `window`, by one plain forward pass. */
function lastLogits(model: GPT, window: number[]): Float32Array {
  return tf.tidy(() => tf.slice(model.forward(tf.tensor2d([window], [1, window.length], 'int32')).logits, [0, window.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array);
}

describe('GPTSession', () => {
  it("crop (the default): every step sees the last blockSize ids, as nanoGPT's generate; with or without the cache", async () => {
    const model = small();
    for (const cache of [true, false]) {
      const session = model.startSession({ cache });
      const history = [1, 2, 3];
      let out = await session.feed(history);
      const rng = new Rng(4);
      for (let step = 0; step < 30; step++) {
        expect(maxAbsDifference(out.logits, lastLogits(model, history.slice(-8)))).toBeLessThan(1e-5);
        const id = rng.int(13);
        history.push(id);
        out = await session.feed([id]);
      }
      session.dispose();
    }
    model.dispose();
  });

  it('restart: past the context a fresh cache from the last 3/4 of it; each step equals recomputing its window', async () => {
    const model = small();
    const session = model.startSession({ contextOverflow: 'restart', attention: true });
    const history = [1, 2, 3];
    let out = await session.feed(history);
    let window = 3;
    const rng = new Rng(4);
    const windows: number[] = [];
    for (let step = 0; step < 30; step++) {
      expect(maxAbsDifference(out.logits, lastLogits(model, history.slice(-window)))).toBeLessThan(1e-5);
      expect(out.attention![0][0]).toHaveLength(window); // the last position's weights over its window
      windows.push(window);
      const id = rng.int(13);
      history.push(id);
      out = await session.feed([id]);
      window = window === 8 ? 6 : window + 1; // full: restart from ceil(0.75 · 8) = 6
    }
    expect(Math.min(...windows.slice(5))).toBe(6);
    session.dispose();
    model.dispose();
  });

  it('checks ids where they enter, forks independently, and leaks nothing past the context', async () => {
    const model = small();
    const session = model.startSession();
    await expect(session.feed([1, 13])).rejects.toThrow(ValueError);
    await expect(session.feed([1, 13])).rejects.toThrow('GPTSession.feed: token id 13 at index 1 is out of range [0, 13)');
    await expectNoLeak(async () => {
      for (const contextOverflow of ['crop', 'restart'] as const) {
        const s = model.startSession({ contextOverflow, attention: true });
        await s.feed([1, 2, 3, 4, 5, 6, 7]);
        const fork = s.fork();
        for (let i = 0; i < 12; i++) await fork.feed([i % 13]);
        const a = await s.feed([2]);
        const b = lastLogits(model, [1, 2, 3, 4, 5, 6, 7, 2]);
        expect(maxAbsDifference(a.logits, b)).toBeLessThan(1e-5); // the fork's steps did not touch s
        fork.dispose();
        s.dispose();
      }
    }, { label: 'sessions' });
    model.dispose();
  });
});

describe('encoder-decoder decoding', () => {
  const specials = { pad: 0, bos: 1, eos: 2 };

  it('greedyTranslate of a batch equals greedy decoding one source at a time through conditionOn', async () => {
    const model = new EncoderDecoderTransformer(seq2seqConfig(11, { nLayer: 1, nHead: 2, dModel: 16, blockSize: 12 }), { rng: new Rng(5) });
    const sources = [[3, 4, 5], [6, 7], [8, 9, 10, 3, 4]];
    const batch = await greedyTranslate(model, sources, specials, 6);
    for (const [i, source] of sources.entries()) {
      const conditioned = model.conditionOn(source, { padId: specials.pad });
      const session = conditioned.startSession();
      const ids: number[] = [];
      let next = specials.bos;
      for (let t = 0; t < 6; t++) {
        const { logits } = await session.feed([next]);
        next = logits.indexOf(Math.max(...logits));
        if (next === specials.eos) break;
        ids.push(next);
      }
      expect(batch[i]).toEqual(ids.filter((id) => id !== specials.pad && id !== specials.bos));
      session.dispose();
      conditioned.dispose();
    }
    expect(model.training).toBe(true); // put back as it was
    await expectNoLeak(() => expect(greedyTranslate(model, [new Array<number>(40).fill(3)], specials, 6)).rejects.toThrow('a source sequence of 40 tokens is longer than blockSize 12'));
    model.dispose();
  });

  it('a conditioned session crops the target to the context and checks its ids', async () => {
    const model = new EncoderDecoderTransformer(seq2seqConfig(11, { nLayer: 1, nHead: 2, dModel: 16, blockSize: 4 }), { rng: new Rng(6) }).eval();
    expect(() => model.conditionOn([3, 11])).toThrow('conditionOn (source): token id 11 at index 1 is out of range [0, 11)');
    const conditioned = model.conditionOn([3, 4, 5]);
    const session = conditioned.startSession();
    await expectNoLeak(async () => {
      for (let t = 0; t < 7; t++) expect((await session.feed([1 + (t % 9)])).logits).toHaveLength(11);
    }, { warmup: 1 }); // the first feed fills the encoder's key/value cache, kept until conditioned.dispose()
    session.dispose();
    conditioned.dispose();
    model.dispose();
  });
});

describe('GPTSession on wasm with the fused decoder (@tx/core FusedDecoder)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    return async () => {
      await initBackend({ prefer: 'cpu' });
    };
  });
  const configs = [
    { activation: 'gelu', bias: true },
    { activation: 'gelu_tanh', bias: false },
    { activation: 'relu', bias: true },
  ] as const;
  const model = (c: (typeof configs)[number]) =>
    new GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, ...c }, { rng: new Rng(21) }).eval();

  /** The names of the kernels that one feed runs. */
  const kernelsOf = async (feed: () => Promise<unknown>) => (await tf.profile(async () => (await feed(), []))).kernels.map((k) => k.name);

  it.each(configs)('runs no tfjs kernel (one wasm call per feed), in and past the context, and every step equals recomputing its window ($activation, bias $bias)', async (c) => {
    const gpt = model(c);
    for (const contextOverflow of ['crop', 'restart'] as const) {
      const session = gpt.startSession({ contextOverflow });
      const history = [1, 2, 3];
      let out: StepOutput | undefined;
      expect(await kernelsOf(async () => (out = await session.feed(history)))).toEqual([]); // the prompt: one wasm call, no tfjs kernel
      let window = 3;
      const rng = new Rng(4);
      for (let step = 0; step < 30; step++) {
        expect(maxAbsDifference(out!.logits, lastLogits(gpt, history.slice(-window))), `${contextOverflow} step ${step}`).toBeLessThan(1e-4);
        const id = rng.int(13);
        history.push(id);
        // Past the context, the recomputed window is one call too.
        expect(await kernelsOf(async () => (out = await session.feed([id])))).toEqual([]);
        window = window < 8 ? window + 1 : contextOverflow === 'crop' ? 8 : 6;
      }
      session.dispose();
    }
    gpt.dispose();
  });

  it('feeds a prompt longer than one call takes (64 rows) in blocks, equal to the batched forward', async () => {
    const gpt = new GPT({ vocabSize: 13, blockSize: 160, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, { rng: new Rng(5) }).eval();
    const rng = new Rng(6);
    const prompt = Array.from({ length: 150 }, () => rng.int(13));
    const session = gpt.startSession();
    expect(maxAbsDifference((await session.feed(prompt)).logits, lastLogits(gpt, prompt))).toBeLessThan(1e-4);
    // The caches hold all 150 positions: the next step sees them.
    expect(maxAbsDifference((await session.feed([3])).logits, lastLogits(gpt, [...prompt, 3]))).toBeLessThan(1e-4);
    session.dispose();
    gpt.dispose();
  });

  it("restart takes a prompt longer than the context (its last blockSize ids), and a fork keeps the session's policy", async () => {
    const gpt = model(configs[0]);
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const session = gpt.startSession({ contextOverflow: 'restart' });
    expect(maxAbsDifference((await session.feed(prompt)).logits, lastLogits(gpt, prompt.slice(-8)))).toBeLessThan(1e-4);
    const fork = session.fork();
    gpt.train(); // both leave the fused path for tfjs's, where restart needs a cache: the fork must still have one
    const history = [...prompt, 11];
    expect(maxAbsDifference((await fork.feed([11])).logits, lastLogits(gpt, history.slice(-6)))).toBeLessThan(1e-4);
    expect(maxAbsDifference((await session.feed([11])).logits, lastLogits(gpt, history.slice(-6)))).toBeLessThan(1e-4);
    gpt.eval();
    fork.dispose();
    session.dispose();
    session.dispose(); // twice is harmless
    gpt.dispose();
  });

  it('forks, leaves the fused path when the model trains mid-session, and leaks neither tensors nor wasm memory', async () => {
    const gpt = model(configs[0]);
    const session = gpt.startSession({ contextOverflow: 'restart' });
    await session.feed([1, 2, 3]);
    const fork = session.fork();
    await fork.feed([9]);
    expect(maxAbsDifference((await session.feed([4])).logits, lastLogits(gpt, [1, 2, 3, 4]))).toBeLessThan(1e-4);
    expect(maxAbsDifference((await fork.feed([5])).logits, lastLogits(gpt, [1, 2, 3, 9, 5]))).toBeLessThan(1e-4);
    gpt.train(); // training mode: the session continues on tfjs's path, from its history
    expect(maxAbsDifference((await session.feed([6])).logits, lastLogits(gpt, [1, 2, 3, 4, 6]))).toBeLessThan(1e-4);
    gpt.eval();
    fork.dispose();
    session.dispose();

    const run = async () => {
      const s = gpt.startSession({ contextOverflow: 'restart' });
      await s.feed([1, 2, 3]);
      for (let i = 0; i < 12; i++) await s.feed([i % 13]);
      s.fork().dispose();
      s.dispose();
    };
    await run();
    const { outstanding } = await wasmAllocations(() =>
      expectNoLeak(async () => {
        for (let i = 0; i < 200; i++) await run();
      }, { label: '200 fused sessions' }),
    );
    expect(outstanding).toBe(0); // each session's caches (2 allocations per decoder) were freed
    gpt.dispose();
  });
});
