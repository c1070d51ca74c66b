// A GPT training step on webgpu (Dawn on SwiftShader in Node) with @tx's WGSL
// kernels: what it issues at the WebGPU API (counted by @tx/core's
// countWebGPU), the same losses as wasm, and GPU memory flat over 200 steps.
import { afterAll, describe, expect, it } from 'vitest';
import { GPT, presets, type GPTConfig } from '@tx/blocks';
import { Rng, countWebGPU, initBackend, tf } from '@tx/core';
import { skipWebGPU } from '@tx/core/testing';
import { AdamW } from './adamw.js';
import { TokenDataset, type Batch } from './data.js';
import { deferredTrainStep, trainLoop, trainStep } from './loop.js';
import { languageModelLoss } from './losses.js';
import { constant } from './schedule.js';

// W1 (nanoGPT's CPU model: 4 layers, 4 heads, no bias) at a width and context SwiftShader runs
// quickly: a step's dispatches depend on the layers, not on the widths.
const W1_SHAPED: GPTConfig = { ...presets['nanogpt-cpu'], nEmbd: 32, blockSize: 16, dropout: 0 };
const rng = new Rng(5);
const data = new TokenDataset(Array.from({ length: 4000 }, (_, i) => (rng.random() < 0.2 ? rng.int(65) : (i * 7) % 65)));

function setup(config: GPTConfig) {
  const model = new GPT(config, { rng: new Rng(1) });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.1, beta2: 0.99 });
  const loss = (b: Batch) => languageModelLoss(model, b);
  return { model, optimizer, loss, dispose: () => (model.dispose(), optimizer.dispose()) };
}
const batches = (n: number, T: number) => {
  const r = new Rng(7);
  return Array.from({ length: n }, () => data.batch('train', 2, T, r));
};

describe.skipIf(skipWebGPU)('a GPT training step on webgpu', () => {
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('issues at most 150 dispatches and reads nothing back (deferredTrainStep); trainStep reads the loss and the norm', async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
    const { model, optimizer, loss, dispose } = setup(W1_SHAPED);
    const [first, second, third] = batches(3, W1_SHAPED.blockSize);
    const deferred = deferredTrainStep({ model, optimizer, loss, gradClip: 1 });
    const warm = deferred([first], 1e-3); // compiles the shaders
    tf.dispose([warm.loss, warm.gradNorm!]);
    const { result, counts } = await countWebGPU(() => deferred([second], 1e-3));
    console.log(`W1-shaped step on webgpu: ${JSON.stringify(counts)}`);
    expect(counts.dispatches).toBeLessThanOrEqual(150);
    expect(counts.readBacks).toBe(0);
    expect(Object.keys(counts.byKernel)).not.toContain('Multiply'); // no element-wise chains left: LayerNorm, GELU, softmax, AdamW are kernels
    tf.dispose([result.loss, result.gradNorm!]);
    const reading = trainStep({ model, optimizer, loss, gradClip: 1 });
    const { counts: read } = await countWebGPU(() => reading([third], 1e-3));
    expect(read.readBacks).toBe(2);
    dispose();
  }, 300_000);

  it('gives the losses and gradient norms of wasm over 8 steps (to 1e-4)', async () => {
    const run = async (backend: 'wasm' | 'webgpu') => {
      await initBackend({ prefer: backend, allowSoftwareWebGPU: true });
      const { model, optimizer, loss, dispose } = setup(W1_SHAPED);
      const step = trainStep({ model, optimizer, loss, gradClip: 1 });
      const out: number[] = [];
      for (const b of batches(8, W1_SHAPED.blockSize)) {
        const { loss: l, gradNorm } = await step([b], 1e-3);
        out.push(l, gradNorm);
      }
      dispose();
      return out;
    };
    const wasm = await run('wasm');
    const webgpu = await run('webgpu');
    const worst = Math.max(...wasm.map((x, i) => Math.abs(x - webgpu[i])));
    console.log(`webgpu vs wasm over 8 W1-shaped steps: max |difference| of losses and norms ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  }, 300_000);

  it('keeps tensors, GPU buffers and bytes flat over 200 steps (trainLoop, logInterval 10)', async () => {
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true });
    const small: GPTConfig = { vocabSize: 65, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false };
    const { model, optimizer, loss, dispose } = setup(small);
    const r = new Rng(3);
    const backend = tf.backend() as unknown as { bufferManager: { getNumUsedBuffers(): number; getNumFreeBuffers(): number } };
    const seen: string[] = [];
    for await (const e of trainLoop({ model, optimizer, loss, rng: r, sample: (split, g) => data.batch(split, 2, 8, g), tokensPerBatch: 16, schedule: constant(1e-3), maxIters: 200, evalInterval: 1000, logInterval: 10 })) {
      if (e.event !== 'step') continue;
      const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
      seen.push(JSON.stringify([m.numTensors, m.numBytesInGPU, m.numBytesAllocatedInGPU, backend.bufferManager.getNumUsedBuffers(), backend.bufferManager.getNumFreeBuffers()]));
    }
    console.log(`[tensors, bytes in use, bytes allocated, buffers used, buffers free] at steps 10, 20 and 200: ${seen[0]} ${seen[1]} ${seen.at(-1)}`);
    expect(seen).toHaveLength(20);
    expect(new Set(seen.slice(1)).size).toBe(1);
    dispose();
  }, 300_000);
});
