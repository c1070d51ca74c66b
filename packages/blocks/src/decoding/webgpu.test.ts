// @tx/core's WebGPUDecoder on GPT (GPT-2's layout: LayerNorm, learned
// positions, GELU, biases, the head tied to the embedding) and Llama (RMSNorm,
// RoPE, 4 query heads over 2 key/value heads of 6 channels in a width of 16,
// the SiLU gate, Qwen's q/k/v biases, a window of 5 in a context of 12, an
// untied head), and GPT without biases with GELU's tanh form or ReLU, on tfjs's webgpu backend (Dawn on SwiftShader in Node): its
// logits equal the model's own forward to 1e-4, a prompt and token by token;
// a copy diverges on its own; position 0 restarts; a refused feed keeps the
// state; the dispatches per token are counted at the WebGPU API; nothing
// leaks; and GPTSession picks it, generating what the tfjs path generates.
import { Rng, ValueError, WebGPUDecoder, countWebGPU, initBackend, randomNormal, tf, useWebGPUKernels, type Decoder } from '@tx/core';
import { expectNoLeak, maxAbsDifference, skipWebGPU } from '@tx/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT } from '../models/gpt.js';
import { Llama } from '../models/llama.js';
import type { GPTSession } from './session.js';

type Model = GPT | Llama;
const TOLERANCE = 1e-4;

/** Every parameter drawn again at a scale where the logits differ clearly (the models' own init makes them near-uniform); norm gains around 1. */
function scrambled<M extends Model>(model: M, seed: number): M {
  const rng = new Rng(seed);
  for (const [name, p] of model.namedParameters()) {
    const gain = p.shape.length === 1 && /(ln|norm)/.test(name) && name.endsWith('weight');
    tf.tidy(() => p.assign(randomNormal(p.shape, rng, { mean: gain ? 1 : 0, std: gain ? 0.2 : 0.3 })));
  }
  model.eval();
  return model;
}

const gpt = (blockSize = 12) => scrambled(new GPT({ vocabSize: 29, blockSize, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, { rng: new Rng(3) }), 5);
/** GPT-2's own activation, and nanoGPT's layers without biases (LayerNorm's included). */
const plainGPT = (activation: 'gelu_tanh' | 'relu') => () => scrambled(new GPT({ vocabSize: 29, blockSize: 12, nLayer: 2, nHead: 4, nEmbd: 16, dropout: 0, bias: false, activation }, { rng: new Rng(4) }), 7);
const llama = () =>
  scrambled(
    new Llama(
      { vocabSize: 31, blockSize: 12, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, headDim: 6, intermediateSize: 20, rmsNormEps: 1e-5, ropeTheta: 500, qkvBias: true, oBias: false, slidingWindow: 5, tieWordEmbeddings: false },
      { rng: new Rng(3) },
    ),
    6,
  );
/** Dispatches per layer per token: GPT-2's packed q/k/v in one, Llama's apart in three; then attention, out + residual, norm + up (+ gate), down + residual. */
const PER_LAYER = { gpt: 5, llama: 7, 'gpt, gelu_tanh, no biases': 5, 'gpt, relu, no biases': 5 };
const MODELS = [['gpt', gpt], ['llama', llama]] as const;
const ALL_MODELS = [...MODELS, ['gpt, gelu_tanh, no biases', plainGPT('gelu_tanh')], ['gpt, relu, no biases', plainGPT('relu')]] as const;

/** The model's own forward over `ids`: the logits after the last (read asynchronously: webgpu in Node has no dataSync). */
async function lastLogits(model: Model, ids: number[]): Promise<Float32Array> {
  const last = tf.tidy(() => tf.slice(model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).logits, [0, ids.length - 1, 0], [1, 1, -1]));
  try {
    return (await last.data()) as Float32Array;
  } finally {
    last.dispose();
  }
}

/** Submit what the backend holds back, so that buffers freed meanwhile return to its pool (a tensor large enough that tfjs runs it on the GPU, not the CPU). */
async function flush(): Promise<void> {
  const t = tf.tidy(() => tf.add(tf.ones([4096]), 1));
  await t.data();
  t.dispose();
}

function decoderOf(model: Model): WebGPUDecoder {
  const decoder = WebGPUDecoder.create(model.decoderLayout(), model.decoderWeights()!);
  expect(decoder).not.toBeNull();
  return decoder!;
}

const argmax = (logits: Float32Array) => logits.indexOf(Math.max(...logits));

describe.skipIf(skipWebGPU)('WebGPUDecoder', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
  }, 120_000);
  afterAll(() => useWebGPUKernels(true));

  it.each(ALL_MODELS)('%s: a prompt, then one token per feed, equal the forward to 1e-4, in 2 + layers x per-layer dispatches and 1 read-back per token', async (name, make) => {
    const model = make();
    const decoder = decoderOf(model);
    const history = [3, 1, 4, 1, 5];
    let { logits } = await decoder.feed(history);
    expect(decoder.position).toBe(5);
    const rng = new Rng(9);
    for (let step = 0; step < 7; step++) {
      expect(maxAbsDifference(logits, await lastLogits(model, history)), `${name} step ${step}`).toBeLessThan(TOLERANCE);
      const id = rng.int(model.config.vocabSize);
      history.push(id);
      const { result, counts } = await countWebGPU(() => decoder.feed([id]));
      logits = result.logits;
      expect(counts.dispatches).toBe(2 + model.config.nLayer * PER_LAYER[name]);
      expect(counts.readBacks).toBe(1);
    }
    expect(decoder.position).toBe(12); // the whole context
    await expect(decoder.feed([1])).rejects.toThrow(new ValueError('WebGPUDecoder: 1 token(s) at position 12 go past the context (12)'));
    decoder.dispose();
    decoder.dispose(); // a second call does nothing
    model.dispose();
  }, 300_000);

  it.each(MODELS)('%s: a clone diverges on its own; a refused feed keeps the state; position 0 restarts, with a 9-token feed', async (_, make) => {
    const model = make();
    const a = decoderOf(model);
    const prompt = [2, 7, 1, 8];
    await a.feed(prompt);
    const b = a.clone();
    expect(b.position).toBe(4);
    const fromA = await a.feed([9]);
    const fromB = await b.feed([11]);
    expect(maxAbsDifference(fromA.logits, await lastLogits(model, [...prompt, 9]))).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(fromB.logits, await lastLogits(model, [...prompt, 11]))).toBeLessThan(TOLERANCE);
    // a refused feed (a token outside the vocabulary, too many tokens) leaves the position and the caches as they were
    const V = model.config.vocabSize;
    await expect(a.feed([2, V])).rejects.toThrow(new ValueError(`WebGPUDecoder: token ${V} is not in [0, ${V - 1}]`));
    await expect(a.feed(new Array(8).fill(1))).rejects.toThrow(ValueError);
    expect(a.position).toBe(5);
    expect(maxAbsDifference((await a.feed([6])).logits, await lastLogits(model, [...prompt, 9, 6]))).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference((await b.feed([6])).logits, await lastLogits(model, [...prompt, 11, 6]))).toBeLessThan(TOLERANCE);
    a.position = 0; // and 9 rows in one feed: 8 per workgroup in the projections, then 1
    const fresh = [5, 4, 3, 2, 1, 0, 6, 7, 8];
    expect(maxAbsDifference((await a.feed(fresh)).logits, await lastLogits(model, fresh))).toBeLessThan(TOLERANCE);
    for (const d of [a, b]) d.dispose();
    await expect(a.feed([1])).rejects.toThrow('WebGPUDecoder: used after dispose()');
    model.dispose();
  }, 300_000);

  it('leaves no tensor and no GPU buffer behind over 50 tokens', async () => {
    const model = gpt(64);
    const buffers = () => (tf.backend() as unknown as { bufferManager: { getNumUsedBuffers(): number } }).bufferManager.getNumUsedBuffers();
    const decoder = decoderOf(model);
    await decoder.feed([1, 2]); // compiles the pipelines
    const before = buffers();
    await expectNoLeak(async () => {
      for (let i = 0; i < 50; i++) await decoder.feed([i % 29]);
    });
    expect(buffers()).toBe(before);
    const copy = decoder.clone();
    copy.dispose();
    decoder.dispose();
    await flush();
    expect(buffers()).toBe(before - 2 * model.config.nLayer);
    model.dispose();
  }, 300_000);

  it("GPTSession past the context through the WebGPU decoder: 'crop' sees the last 12 ids, 'restart' 9 to 12, as the forward of that window", async () => {
    const model = gpt();
    for (const contextOverflow of ['crop', 'restart'] as const) {
      const session = model.startSession({ contextOverflow });
      expect((session as unknown as { decoder: Decoder }).decoder).toBeInstanceOf(WebGPUDecoder);
      const history = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      let { logits } = await session.feed(history);
      let window = 10;
      for (let step = 0; step < 6; step++) {
        expect(maxAbsDifference(logits, await lastLogits(model, history.slice(-window))), `${contextOverflow} step ${step}`).toBeLessThan(TOLERANCE);
        const id = (step * 5) % 29;
        history.push(id);
        ({ logits } = await session.feed([id]));
        window = window < 12 ? window + 1 : contextOverflow === 'crop' ? 12 : 9; // restart recomputes the last ceil(3/4 of 12) ids
      }
      session.dispose();
    }
    model.dispose();
  }, 300_000);

  it("GPTSession picks the WebGPU decoder and greedy generation equals the tfjs path's; kernels turned off, it goes on through tfjs", async () => {
    for (const model of [gpt(), llama()]) {
      const greedy = async (session: GPTSession, steps: number) => {
        const ids: number[] = [];
        let { logits } = await session.feed([1, 2, 3]);
        for (let i = 0; i < steps; i++) {
          ids.push(argmax(logits));
          ({ logits } = await session.feed([ids[i]!]));
        }
        return { ids, logits };
      };
      const fast = model.startSession();
      expect((fast as unknown as { decoder: Decoder }).decoder).toBeInstanceOf(WebGPUDecoder);
      const tfjs = model.startSession({ attention: true }); // attention asked for: the model's forward
      expect((tfjs as unknown as { decoder: Decoder }).decoder).not.toBeInstanceOf(WebGPUDecoder);
      const [a, b] = [await greedy(fast, 8), await greedy(tfjs, 8)];
      expect(a.ids).toEqual(b.ids);
      expect(maxAbsDifference(a.logits, b.logits)).toBeLessThan(TOLERANCE);
      useWebGPUKernels(false);
      try {
        const history = [...fast.ids, 4];
        const { logits } = await fast.feed([4]);
        expect((fast as unknown as { decoder: Decoder }).decoder).not.toBeInstanceOf(WebGPUDecoder);
        expect(maxAbsDifference(logits, await lastLogits(model, history.slice(-model.config.blockSize)))).toBeLessThan(TOLERANCE);
      } finally {
        useWebGPUKernels(true);
      }
      for (const s of [fast, tfjs]) s.dispose();
      model.dispose();
    }
  }, 300_000);
});
