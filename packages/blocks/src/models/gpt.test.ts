// GPT against PyTorch (tooling/fixtures/blocks.py): nanoGPT's architecture,
// trained briefly, logits equal to 1e-4 on cpu and wasm; nanoGPT's names both
// ways; parameter counts; errors; the KV cache; no leaks.
import { readFileSync } from 'node:fs';
import { Rng, ShapeError, StateDictError, TxError, initBackend, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { expectNoLeak, maxAbsDifference as maxDiff } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { gptConfigFromNanoGPT, presets } from './config.js';
import type { NanoGPTModelArgs } from './config.js';
import { GPT } from './gpt.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
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
      const { logits, attention } = model.forward(ids2d(fx.ids), { returnAttention: true });
      expect(logits.shape).toEqual([2, 16, 20]);
      expect(attention!.map((a) => a.shape)).toEqual([[2, 2, 16, 16], [2, 2, 16, 16]]);
      expect(maxDiff(await logits.data(), fx.logits)).toBeLessThan(1e-4);
      expect(maxDiff(await attention![1].data(), fx.attention_layer1)).toBeLessThan(1e-5);
      const short = model.forward(ids2d(fx.short_ids)).logits;
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
    const a = model.forward(ids2d(fx.short_ids)).logits;
    const b = other.forward(ids2d(fx.short_ids)).logits;
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

  it('takes int32 [B, T] and names what else it got; sequences past the context are for a session', () => {
    const model = new GPT({ ...presets['nanogpt-cpu'], nLayer: 1, blockSize: 8, vocabSize: 10 });
    expect(() => model.forward(tf.tensor3d([[[1, 2]]], undefined, 'int32'))).toThrow(ShapeError);
    expect(() => model.forward(tf.tensor3d([[[1, 2]]], undefined, 'int32'))).toThrow('GPT: ids must be int32 [B, T], found int32 [1, 1, 2]');
    expect(() => model.forward(tf.tensor2d([[1, 2]]))).toThrow('GPT: ids must be int32 [B, T], found float32 [1, 2]');
    expect(() => model.forward(ids2d([Array.from({ length: 9 }, () => 1)]))).toThrow('GPT: a sequence of 9 tokens is past the context (blockSize 8); a decoding session crops or restarts instead');
    const cache = model.createCache();
    model.forward(ids2d([[1, 2, 3, 4, 5, 6]]), { cache }).logits.dispose();
    expect(() => model.forward(ids2d([[1, 2, 3]]), { cache })).toThrow('GPT: positions 6..8 are past the context (blockSize 8)');
    cache.forEach((c) => c.dispose());
    model.dispose();
  });

  it('decodes with a KV cache exactly as without one', async () => {
    const { model, fx } = await loadFixtureModel('gpt_nobias');
    const full = model.forward(ids2d(fx.ids.slice(0, 1))).logits; // [1, 16, 20]
    const expected = (await full.array())[0];
    const cache = model.createCache();
    const steps: number[][] = [];
    const prompt = fx.ids[0].slice(0, 5);
    const first = model.forward(ids2d([prompt]), { cache });
    steps.push(...((await first.logits.array())[0]));
    for (const id of fx.ids[0].slice(5)) {
      const { logits } = model.forward(ids2d([[id]]), { cache });
      steps.push((await logits.array())[0][0]);
      logits.dispose();
    }
    expect(cache[0].length).toBe(16);
    expect(maxDiff(steps.flat(), expected.flat())).toBeLessThan(1e-5);
    cache.forEach((c) => c.dispose());
    tf.dispose([full, first.logits]);
    model.dispose();
  });

  it('keeps no transposed copy of the tied output weight: eval mode adds no tensor, and a loaded state dict is read at once', async () => {
    const model = new GPT({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: false }, { rng: new Rng(3) });
    const ids = ids2d([[1, 2, 3]]);
    const logits = () => tf.tidy(() => Array.from(model.forward(ids).logits.dataSync()));
    const before = tf.memory().numTensors;
    const trained = logits();
    model.eval();
    expect(tf.memory().numTensors).toBe(before); // the head reads wte's rows: no wteᵀ kept
    expect(maxDiff(logits(), trained)).toBe(0);
    const other = new GPT(model.config, { rng: new Rng(4) });
    const sd = other.stateDict();
    model.loadStateDict(sd); // while in eval mode: the head must use the new wte
    expect(maxDiff(logits(), tf.tidy(() => Array.from(other.forward(ids).logits.dataSync())))).toBe(0);
    model.train();
    expect(tf.memory().numTensors).toBe(before + other.parameters().length + Object.keys(sd).length);
    tf.dispose([ids, ...Object.values(sd)]);
    other.dispose();
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
      const d = model.startSession({ attention: true });
      for (let i = 0; i < 10; i++) await d.feed([i % 11]); // past the context of 8, too
      d.dispose();
    }, { label: 'decoding session' });
    ids.dispose();
    model.dispose();
  });
});
