// A whole in-process `tx train` gives back every tensor it made: the model, its
// AdamW moments, the checkpoint saves, the samples. (AdamW's zeros once stayed
// behind, two tensors per parameter, GPT and Llama alike; a step alone stayed flat.)
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@tx/core';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const tiny = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, evalIters: 2 };

describe('tx train in-process', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' }); // tf.memory() needs a backend before the first run sets one
  });

  it.each([
    ['a GPT', tiny],
    ['a Llama', { ...tiny, model: 'llama' }],
  ])('leaves tf.memory().numTensors where it was, for %s, trained and then resumed', async (_, settings) => {
    const out = join(tmp(), 'run');
    const config = tinyConfig(settings);
    const train = ['train', '--config', config, '--eval-interval', '2', '--out', out, '--backend', 'wasm', '--json'];
    const before = tf.memory().numTensors;
    expect((await runTx([...train, '--max-iters', '2'])).code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect((await runTx(['train', '--resume', out, '--max-iters', '3', '--backend', 'wasm', '--json'])).code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
