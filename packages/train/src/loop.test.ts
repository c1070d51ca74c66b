import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { GPT } from '@tx/blocks';
import { Linear, Module, Rng, ValueError, initBackend, kernelsInfo, tf } from '@tx/core';
import { wasmAllocations } from '@tx/core/testing';
import { AdamW } from './adamw.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { TokenDataset, type Batch } from './data.js';
import { crossEntropy } from './loss.js';
import { TrainingError, trainLoop, trainStep, type TrainEvent } from './loop.js';
import { languageModelLoss } from './losses.js';
import { cosineWithWarmup } from './schedule.js';

const V = 6;
/** A next-token model small enough for tests: embedding -> hidden -> logits. */
class TinyLM extends Module {
  readonly embed: Linear;
  readonly head: Linear;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.embed = this.module('embed', new Linear(V, 8, { rng, bias: false, std: 0.5 }));
    this.head = this.module('head', new Linear(8, V, { rng }));
  }
  loss(batch: Batch): tf.Scalar {
    return tf.tidy(() => {
      const x = tf.oneHot(tf.tensor1d(batch.x, 'int32'), V).toFloat();
      const logits = this.head.forward(tf.tanh(this.embed.forward(x)));
      return crossEntropy(logits, tf.tensor1d(batch.y, 'int32'));
    });
  }
}

// A stream where each token mostly predicts the next: 0 1 2 3 4 5 0 1 2 ... with some noise.
const noise = new Rng(99);
const stream = Array.from({ length: 3000 }, (_, i) => (noise.random() < 0.1 ? noise.int(V) : i % V));
const data = new TokenDataset(stream);

function setup(seed = 1) {
  const model = new TinyLM(seed);
  const optimizer = new AdamW(model.namedParameters(), { lr: 3e-2, weightDecay: 0.1, beta2: 0.99 });
  const rng = new Rng(seed);
  const options = {
    model,
    optimizer,
    rng,
    loss: (b: Batch) => model.loss(b),
    sample: (split: 'train' | 'val', r: Rng) => data.batch(split, 8, 4, r),
    tokensPerBatch: 32,
    schedule: cosineWithWarmup({ lr: 3e-2, minLr: 3e-3, warmupIters: 5, decayIters: 60 }),
    evalInterval: 20,
    evalIters: 5,
    gradAccumSteps: 2,
  };
  return { model, optimizer, rng, options };
}

async function collect(gen: AsyncGenerator<TrainEvent>): Promise<TrainEvent[]> {
  const out: TrainEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('trainLoop', () => {
  it('lowers the loss, emits step and eval events, and ends with done', async () => {
    const { model, optimizer, options } = setup();
    const events = await collect(trainLoop({ ...options, maxIters: 60 }));
    const steps = events.filter((e) => e.event === 'step');
    const evals = events.filter((e) => e.event === 'eval');
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(evals.map((e) => e.step)).toEqual([20, 40, 60]);
    expect(events.at(-1)).toEqual({ event: 'done', step: 60, aborted: false });
    // Uniform guessing costs ln 6 = 1.79; the pattern is ~90% predictable.
    expect(steps[0].loss).toBeGreaterThan(1.5);
    expect(evals.at(-1)!.event === 'eval' && evals.at(-1)!.valLoss).toBeLessThan(0.9);
    expect(steps[4].lr).toBeCloseTo(3e-2 * 5 / 6, 8);
    model.dispose();
    optimizer.dispose();
  });

  it('keeps tf.memory().numTensors flat over 50 steps', async () => {
    const { model, optimizer, options } = setup();
    const counts: number[] = [];
    for await (const e of trainLoop({ ...options, maxIters: 51, evalInterval: 10 })) {
      if (e.event === 'step') counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts.at(-1)).toBe(counts[0]);
    model.dispose();
    optimizer.dispose();
  });

  it('stops cleanly between steps when the signal aborts', async () => {
    const { model, optimizer, options } = setup();
    const controller = new AbortController();
    const events: TrainEvent[] = [];
    for await (const e of trainLoop({ ...options, maxIters: 100, signal: controller.signal })) {
      events.push(e);
      if (e.event === 'step' && e.step === 7) controller.abort();
    }
    expect(events.at(-1)).toEqual({ event: 'done', step: 7, aborted: true });
    expect(optimizer.step).toBe(7);
    model.dispose();
    optimizer.dispose();
  });

  it('stops on a NaN loss before applying it, with a clear error', async () => {
    const { model, optimizer, options } = setup();
    let calls = 0;
    const poisoned = (b: Batch) => (++calls > 6 ? tf.tidy(() => tf.mul(model.loss(b), NaN) as tf.Scalar) : model.loss(b));
    const seen: number[] = [];
    const run = async () => {
      for await (const e of trainLoop({ ...options, loss: poisoned, maxIters: 10 })) if (e.event === 'step') seen.push(e.step);
    };
    await expect(run()).rejects.toThrow(TrainingError);
    expect(seen).toEqual([1, 2, 3]); // 2 micro-batches a step: the 7th call is in step 4
    expect(optimizer.step).toBe(3);
    model.dispose();
    optimizer.dispose();
  });
});

describe('trainLoop with logInterval', () => {
  it('reads back every n steps: one event each, the mean of their losses, the same model as logInterval 1', async () => {
    const a = setup();
    const every = (await collect(trainLoop({ ...a.options, maxIters: 12, evalInterval: 8 }))).filter((e) => e.event === 'step');
    const b = setup();
    const events = await collect(trainLoop({ ...b.options, maxIters: 12, evalInterval: 8, logInterval: 5 }));
    const steps = events.filter((e) => e.event === 'step');
    // Reads at 5, at 8 (before the eval), at 10, and at 12 (the last step).
    expect(steps.map((e) => [e.step, e.steps])).toEqual([[5, 5], [8, 3], [10, 2], [12, 2]]);
    expect(events.filter((e) => e.event === 'eval').map((e) => e.step)).toEqual([8, 12]);
    const mean = (from: number, to: number) => every.slice(from, to).reduce((s, e) => s + e.loss, 0) / (to - from);
    [mean(0, 5), mean(5, 8), mean(8, 10), mean(10, 12)].forEach((m, i) => expect(steps[i].loss).toBeCloseTo(m, 6));
    expect(steps[3].gradNorm).toBeCloseTo(every[11].gradNorm, 6);
    const weights = async (m: Module) => Promise.all(m.namedParameters().map(([, p]) => p.data()));
    expect(await weights(b.model)).toEqual(await weights(a.model));
    for (const x of [a, b]) {
      x.model.dispose();
      x.optimizer.dispose();
    }
  });

  it("counts the read's wait for the device in the steps' time (ms, tokens/s)", async () => {
    const { model, optimizer, options } = setup();
    // A clock that ticks 1 ms per call: each step's own time is 1 (t0, end), the read's wait 1 more.
    let now = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => ++now);
    try {
      const events = await collect(trainLoop({ ...options, maxIters: 2, evalInterval: 100, logInterval: 2 }));
      const [step] = events.filter((e) => e.event === 'step');
      // 2 steps of 1 ms and a read of 1 ms: 1.5 ms a step; 2 x 2 micro-batches x 32 tokens in 3 ms.
      expect(step).toMatchObject({ step: 2, steps: 2, ms: 1.5, tokensPerSecond: (128 * 1000) / 3 });
    } finally {
      clock.mockRestore();
      model.dispose();
      optimizer.dispose();
    }
  });

  it('names the step of a NaN loss at the next read, and leaves no tensors behind', async () => {
    const { model, optimizer, options } = setup();
    const before = tf.memory().numTensors;
    let calls = 0;
    const poisoned = (b: Batch) => (++calls > 6 ? tf.tidy(() => tf.mul(model.loss(b), NaN) as tf.Scalar) : model.loss(b));
    const run = async () => {
      for await (const _ of trainLoop({ ...options, loss: poisoned, maxIters: 10, logInterval: 6 }));
    };
    // 2 micro-batches a step: the 7th call is in step 3 (counted from 0, as trainStep's message).
    await expect(run()).rejects.toThrow(/^loss is NaN at step 3 \(lr [0-9.e-]+\), found at the read of step 6 \(logInterval 6\)/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(collect(trainLoop({ ...options, maxIters: 1, logInterval: 0 }))).rejects.toThrow(ValueError);
    await expect(collect(trainLoop({ ...options, maxIters: 1, logInterval: 0 }))).rejects.toThrow('trainLoop: logInterval must be a positive integer, got 0');
    model.dispose();
    optimizer.dispose();
  });
});

describe("on wasm with @tx's kernels and 2 threads", () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 2 });
    return async () => {
      await initBackend({ prefer: 'cpu' });
    };
  });

  // Wide enough that the products go to the thread pool (over 1M multiply-adds).
  const corpus = new TokenDataset(Array.from({ length: 5000 }, (_, i) => (i * 7) % 64));
  function gptRun(seed: number) {
    const model = new GPT({ vocabSize: 64, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0, bias: true }, { rng: new Rng(seed) });
    const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.1 });
    const rng = new Rng(8);
    const step = trainStep({ model, optimizer, gradClip: 1, loss: (b: Batch) => languageModelLoss(model, b) });
    const next = () => step([corpus.batch('train', 16, 32, rng)], 1e-3);
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) await next();
    };
    const dispose = () => {
      model.dispose();
      optimizer.dispose();
    };
    return { model, optimizer, rng, next, run, dispose };
  }

  it('keeps tensors and wasm memory flat over 200 GPT training steps', async () => {
    expect(kernelsInfo()).toMatchObject({ active: true, threads: 2 });
    const gpt = gptRun(3);
    await gpt.run(3); // the kernels' scratch reaches its size
    const counts: number[] = [];
    const { result: losses, outstanding } = await wasmAllocations(async () => {
      const losses: number[] = [];
      for (let i = 0; i < 200; i++) {
        losses.push((await gpt.next()).loss);
        counts.push(tf.memory().numTensors);
      }
      return losses;
    });
    expect(new Set(counts).size).toBe(1);
    expect(outstanding).toBe(0);
    expect(losses.at(-1)!).toBeLessThan(losses[0] - 1); // it learns the sequence
    gpt.dispose();
  }, 300_000);

  it('resume is bit-identical: 5 steps, save, load, 5 more equals 10 uninterrupted', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tx-ckpt-')), 'run');
    const straight = gptRun(3);
    await straight.run(10);
    const first = gptRun(3);
    await first.run(5);
    const resumed = gptRun(99); // another init, replaced by the checkpoint
    const loaded = await saveAndLoad(dir, 5, first, resumed);
    await resumed.run(5);
    await expectSameParameters(straight.model, resumed.model);
    tf.dispose(loaded);
    for (const r of [straight, first, resumed]) r.dispose();
  }, 300_000);
});

/** Save `from` as a checkpoint at `step` and load it into `into` (model, optimizer, rng); returns the loaded tensors to dispose. */
async function saveAndLoad(dir: string, step: number, from: { model: Module; optimizer: AdamW; rng: Rng }, into: { model: Module; optimizer: AdamW; rng: Rng }): Promise<tf.Tensor[]> {
  await saveCheckpoint(dir, {
    model: from.model,
    optimizer: from.optimizer,
    config: { model: { kind: 'test' }, training: { step, rngState: from.rng.getState() } },
    tokenizer: { kind: 'char', chars: 'abcdef' },
  });
  const ckpt = await loadCheckpoint(dir);
  into.model.loadStateDict(ckpt.modelState);
  into.optimizer.loadStateDict(ckpt.optimizerState!);
  into.rng.setState(ckpt.config.training!.rngState);
  expect(ckpt.config.training!.step).toBe(step);
  expect(ckpt.tokenizer).toEqual({ kind: 'char', chars: 'abcdef' });
  return [...Object.values(ckpt.modelState), ...Object.values(ckpt.optimizerState!.tensors)];
}

/** Every parameter of b equals a's, bit for bit. */
async function expectSameParameters(a: Module, b: Module): Promise<void> {
  const theirs = b.namedParameters();
  for (const [i, [name, p]] of a.namedParameters().entries()) {
    expect(Array.from(await theirs[i][1].data()), name).toEqual(Array.from(await p.data()));
  }
}

describe('checkpoints', () => {
  it('resume is exact: 12 steps, save, load, 13 more equals 25 uninterrupted', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tx-ckpt-')), 'run');
    const straight = setup(5);
    await collect(trainLoop({ ...straight.options, maxIters: 25 }));

    const first = setup(5);
    await collect(trainLoop({ ...first.options, maxIters: 12 }));
    const resumed = setup(777); // different init, overwritten by the checkpoint
    const loaded = await saveAndLoad(dir, 12, first, resumed);
    await collect(trainLoop({ ...resumed.options, startIter: 12, maxIters: 25 }));
    await expectSameParameters(straight.model, resumed.model);
    tf.dispose(loaded);
  });

  it('replaces a checkpoint whole and recovers the old one after a crash mid-swap', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-ckpt-'));
    const dir = join(root, 'run');
    const { model } = setup();
    await saveCheckpoint(dir, { model, config: { model: { version: 1 } } });
    await saveCheckpoint(dir, { model, config: { model: { version: 2 } } });
    expect(readdirSync(root)).toEqual(['run']); // no temp or old boxes left
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'manifest.json', 'model.safetensors']);

    // A crash between "dir -> old box" and "temp copy -> dir" leaves no dir: the newest complete copy is read.
    let crashed = false;
    void saveCheckpoint(dir, { model, config: { model: { version: 3 } } }, { onStep: (step) => (step === 'moved-old' ? ((crashed = true), new Promise<void>(() => {})) : undefined) });
    while (!crashed) await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(dir)).toBe(false);
    const recovered = await loadCheckpoint(dir);
    expect(recovered.config.model).toEqual({ version: 3 });
    tf.dispose(Object.values(recovered.modelState));
  });

  it('names the missing or corrupt file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-ckpt-'));
    await expect(loadCheckpoint(join(root, 'nope'))).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(root, 'nope'))).rejects.toThrow(`no checkpoint at ${join(root, 'nope')}`);
    const { model } = setup();
    const dir = join(root, 'run');
    await saveCheckpoint(dir, { model, config: { model: {} } });
    writeFileSync(join(dir, 'config.json'), '{"model": ');
    await expect(loadCheckpoint(dir)).rejects.toThrow(`${join(dir, 'config.json')}: not valid JSON`);
    writeFileSync(join(dir, 'config.json'), '{"model": {}}');
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: file is 3 bytes/);
    expect(existsSync(dir)).toBe(true);
  });
});
