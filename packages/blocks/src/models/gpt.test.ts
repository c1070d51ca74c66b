// GPT against PyTorch (tooling/fixtures/blocks.py): nanoGPT's architecture,
// trained briefly, logits equal to 1e-4 on cpu and wasm; nanoGPT's names both
// ways; parameter counts; errors; the KV cache; no leaks.
import { readFileSync } from 'node:fs';
import { Rng, ShapeError, StateDictError, TxError, initBackend, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { expectNoLeak } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { gptConfigFromNanoGPT, presets } from './config.js';
import type { NanoGPTModelArgs } from './config.js';
import { GPT } from './gpt.js';

const fixtures = new URL('../test/fixtures/', import.meta.url);
interface GPTFixture {
  model_args: NanoGPTModelArgs;
  keys: string[];
  ids: number[][];
  logits: number[];
  attention_layer1: number[];
  short_ids: number[][];
  short_logits: number[];
  num_params: number;
}
const readFixture = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8')) as GPTFixture;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function loadFixtureModel(name: string): Promise<{ model: GPT; fx: GPTFixture }> {
  const fx = readFixture(name);
  const model = new GPT(gptConfigFromNanoGPT(fx.model_args)).eval();
  const { tensors: dict } = await loadSafetensorsFile(new URL(`${name}.safetensors`, fixtures).pathname);
  model.loadStateDict(dict);
  tf.dispose(Object.values(dict));
  return { model, fx };
}

describe('GPT configuration', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('has 804,096 parameters for nanogpt-cpu (wpe included) and names them as nanoGPT', () => {
    const model = new GPT(presets['nanogpt-cpu']);
    expect(model.numParameters()).toBe(804_096);
    const names = model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 9)).toEqual([
      'transformer.wte.weight',
      'transformer.wpe.weight',
      'transformer.h.0.ln_1.weight',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_proj.weight',
      'transformer.h.0.ln_2.weight',
      'transformer.h.0.mlp.c_fc.weight',
      'transformer.h.0.mlp.c_proj.weight',
      'transformer.h.1.ln_1.weight',
    ]);
    expect(names.at(-1)).toBe('transformer.ln_f.weight');
    model.dispose();
  });

  it('rejects bad configs, naming the fields', () => {
    expect(() => new GPT({ ...presets['nanogpt-cpu'], nEmbd: 130 })).toThrow('nEmbd (130) must be divisible by nHead (4)');
    expect(() => new GPT({ ...presets['nanogpt-cpu'], vocabSize: 0, dropout: 1 })).toThrow(/vocabSize must be a positive integer, got 0; dropout must be a number in \[0, 1\)/);
    expect(() => gptConfigFromNanoGPT({ n_layer: 2, n_head: 2, n_embd: 8, block_size: 4.5, bias: false, vocab_size: 3 })).toThrow(TxError);
  });
});

describe.each(['cpu', 'wasm'] as const)('GPT on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  for (const name of ['gpt_nobias', 'gpt_bias']) {
    it(`matches PyTorch's logits and attention (${name})`, async () => {
      const { model, fx } = await loadFixtureModel(name);
      expect(model.numParameters()).toBe(fx.num_params);
      const { logits, attention } = model.forward(fx.ids, { returnAttention: true });
      expect(logits.shape).toEqual([2, 16, 20]);
      expect(attention!.map((a) => a.shape)).toEqual([[2, 2, 16, 16], [2, 2, 16, 16]]);
      expect(maxDiff(await logits.data(), fx.logits)).toBeLessThan(1e-4);
      expect(maxDiff(await attention![1].data(), fx.attention_layer1)).toBeLessThan(1e-5);
      const short = model.forward(fx.short_ids).logits;
      expect(maxDiff(await short.data(), fx.short_logits)).toBeLessThan(1e-4);
      tf.dispose([logits, short, ...attention!]);
      model.dispose();
    });
  }

  it('round-trips nanoGPT names: writes lm_head.weight, reads wte alone, lm_head alone, or both', async () => {
    const { model, fx } = await loadFixtureModel('gpt_bias');
    const sd = model.stateDict();
    expect(Object.keys(sd).sort()).toEqual([...fx.keys, 'lm_head.weight'].sort());
    const other = new GPT(gptConfigFromNanoGPT(fx.model_args), { rng: new Rng(9) }).eval();
    const { 'transformer.wte.weight': wte, ...withoutWte } = sd;
    other.loadStateDict(withoutWte); // lm_head.weight stands for the tied wte
    const a = model.forward(fx.short_ids).logits;
    const b = other.forward(fx.short_ids).logits;
    expect(maxDiff(await a.data(), await b.data())).toBe(0);
    const bad = { ...sd, 'lm_head.weight': tf.zerosLike(wte) };
    expect(() => other.loadStateDict(bad)).toThrow(StateDictError);
    const { 'transformer.h.1.mlp.c_fc.weight': fc, ...missing } = sd;
    expect(() => other.loadStateDict({ ...missing, 'transformer.h.1.mlp.c_fc.weight': tf.transpose(fc) })).toThrow(
      'tensor "transformer.h.1.mlp.c_fc.weight": expected shape [128, 32], found [32, 128]',
    );
    tf.dispose([...Object.values(sd), a, b, bad['lm_head.weight']]);
    model.dispose();
    other.dispose();
  });

  it('names out-of-range ids and sequences longer than the context', () => {
    const model = new GPT({ ...presets['nanogpt-cpu'], nLayer: 1, blockSize: 8, vocabSize: 10 });
    expect(() => model.forward([[1, 2, 3], [4, 10, 5]])).toThrow(ShapeError);
    expect(() => model.forward([[1, 2, 3], [4, 10, 5]])).toThrow('GPT: token id 10 at [1, 1] is out of range [0, 10)');
    expect(() => model.forward([Array.from({ length: 9 }, () => 1)])).toThrow('GPT: a sequence of 9 tokens is longer than the context (blockSize 8)');
    expect(() => model.forward([[[1, 2]]] as unknown as number[][])).toThrow('GPT: ids must be [B, T] or [T], found shape [1, 1, 2]');
    model.dispose();
  });

  it('decodes with a KV cache exactly as without one', async () => {
    const { model, fx } = await loadFixtureModel('gpt_nobias');
    const full = model.forward(fx.ids.slice(0, 1)).logits; // [1, 16, 20]
    const expected = (await full.array())[0];
    const cache = model.createCache();
    const steps: number[][] = [];
    const prompt = fx.ids[0].slice(0, 5);
    const first = model.forward([prompt], { cache });
    steps.push(...((await first.logits.array())[0]));
    for (const id of fx.ids[0].slice(5)) {
      const { logits } = model.forward([[id]], { cache });
      steps.push((await logits.array())[0][0]);
      logits.dispose();
    }
    expect(cache.length).toBe(16);
    expect(maxDiff(steps.flat(), expected.flat())).toBeLessThan(1e-5);
    cache.dispose();
    tf.dispose([full, first.logits]);
    model.dispose();
  });

  it('startDecoder gives the same next-token logits with and without the cache, within the context', async () => {
    const { model, fx } = await loadFixtureModel('gpt_nobias');
    const cached = model.startDecoder({ cache: true, attention: true });
    const plain = model.startDecoder({ cache: false });
    const ids = fx.ids[1];
    let a = await cached.feed(ids.slice(0, 3));
    let b = await plain.feed(ids.slice(0, 3));
    for (const id of ids.slice(3)) {
      expect(maxDiff(a.logits, b.logits)).toBeLessThan(1e-5);
      a = await cached.feed([id]);
      b = await plain.feed([id]);
    }
    expect(a.attention!.length).toBe(2); // layers
    expect(a.attention![0].length).toBe(2); // heads
    expect(a.attention![0][0].length).toBe(16); // keys
    expect(a.attention![0][0].reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
    const before = tf.memory().numTensors;
    const fork = cached.fork();
    await fork.feed([1]); // past the context: a fresh cache from the last 3/4 of the context
    const moved = await cached.feed([2]);
    expect(cached.windowLength).toBe(12);
    expect(moved.attention![0][0].length).toBe(12);
    expect(moved.logits.every(Number.isFinite)).toBe(true);
    fork.dispose();
    expect(tf.memory().numTensors).toBe(before);
    cached.dispose();
    plain.dispose();
    model.dispose();
  });

  it('past the context, each cached step equals recomputing its window (positions stay exact)', async () => {
    const model = new GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, { rng: new Rng(21) }).eval();
    const decoder = model.startDecoder({ cache: true });
    const history = [1, 2, 3];
    let out = await decoder.feed(history);
    const rng = new Rng(4);
    for (let step = 0; step < 30; step++) {
      const window = history.slice(-decoder.windowLength);
      expect(window.length).toBeGreaterThanOrEqual(Math.min(history.length, 6));
      const reference = tf.tidy(() => tf.slice(model.forward([window]).logits, [0, window.length - 1, 0], [1, 1, -1]).dataSync());
      expect(maxDiff(out.logits, reference as Float32Array)).toBeLessThan(1e-5);
      const id = rng.int(13);
      history.push(id);
      out = await decoder.feed([id]);
    }
    decoder.dispose();
    model.dispose();
  });

  it('leaks no tensors in forward, forward+backward and cached steps', async () => {
    const model = new GPT({ ...presets['nanogpt-cpu'], vocabSize: 11, nLayer: 2, nEmbd: 32, blockSize: 8, dropout: 0.1 });
    const ids = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 10]], undefined, 'int32');
    await expectNoLeak(() => tf.tidy(() => void model.forward(ids, { returnAttention: true })), { label: 'forward' });
    await expectNoLeak(
      () => tf.tidy(() => void tf.variableGrads(() => tf.mean(tf.square(model.forward(ids).logits)) as tf.Scalar)),
      { label: 'forward+backward', warmup: 1 },
    );
    model.eval();
    await expectNoLeak(async () => {
      const d = model.startDecoder({ cache: true, attention: true });
      for (let i = 0; i < 10; i++) await d.feed([i % 11]);
      d.dispose();
    }, { label: 'decoder' });
    ids.dispose();
    model.dispose();
  });
});
