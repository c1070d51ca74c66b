// llama-mini trains with @tx/train's step, as `tx train --preset llama-mini`
// does: 20 AdamW steps on one repeated batch lower the loss, and the number of
// live tensors stays flat from step to step (nothing leaks per step).
import { Llama, llamaMini } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { trainStep } from './loop.js';
import { languageModelLoss } from './losses.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('llama-mini with trainStep', () => {
  it('20 steps lower the loss and keep the tensor count flat', async () => {
    const model = new Llama({ ...llamaMini, blockSize: 32 }, { rng: new Rng(1337) });
    const optimizer = new AdamW(model.namedParameters(), { lr: 3e-3, weightDecay: 0.1 });
    const step = trainStep({ model, optimizer, gradClip: 1, loss: (b: Parameters<typeof languageModelLoss>[1]) => languageModelLoss(model, b) });
    const rng = new Rng(7);
    const x = Int32Array.from({ length: 4 * 32 }, () => rng.int(65));
    const batch = { x, y: Int32Array.from(x, (v) => (v * 7 + 3) % 65), batchSize: 4, blockSize: 32 };
    const losses: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 20; i++) {
      losses.push((await step([batch], 3e-3)).loss);
      counts.push(tf.memory().numTensors);
    }
    expect(losses[19]).toBeLessThan(losses[0] - 1);
    expect(new Set(counts.slice(1)).size).toBe(1); // after the first step made AdamW's moments
    optimizer.dispose();
    model.dispose();
  }, 120_000);
});
