// llm.c's test (test_gpt2): a nanoGPT GPT from PyTorch (tooling/fixtures/llmc.py)
// gives the same logits and loss, then 10 training steps (gradients, clipping
// to 1.0, nanoGPT's AdamW groups) give the same loss at every step, the same
// gradient norms, and the same final weights, to 1e-5.
import { readFileSync } from 'node:fs';
import { GPT, gptConfigFromNanoGPT, type NanoGPTModelArgs } from '@tx/blocks';
import { initBackend, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { maxAbsDifference } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { languageModelLoss } from './losses.js';
import { trainStep } from './loop.js';

const fixtures = new URL('../test/fixtures/', import.meta.url);
const fx = JSON.parse(readFileSync(new URL('llmc.json', fixtures), 'utf8')) as {
  model_args: NanoGPTModelArgs;
  x: number[][];
  y: number[][];
  logits: number[][][];
  loss: number;
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number; grad_clip: number; steps: number; decayed: string[] };
  losses: number[];
  grad_norms: number[];
};
const load = async (name: string) => (await loadSafetensorsFile(new URL(name, fixtures).pathname)).tensors;

describe.each(['cpu', 'wasm'] as const)('the llm.c test on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('logits and loss, then 10 AdamW steps: every loss, gradient norm and final weight as PyTorch', async () => {
    const model = new GPT(gptConfigFromNanoGPT(fx.model_args));
    const init = await load('llmc_init.safetensors');
    model.loadStateDict(init);
    tf.dispose(Object.values(init));
    const [B, T] = [fx.x.length, fx.x[0].length];
    const batch = { x: Int32Array.from(fx.x.flat()), y: Int32Array.from(fx.y.flat()), batchSize: B, blockSize: T };

    const ids = tf.tensor2d(fx.x, [B, T], 'int32');
    const { logits } = model.forward(ids);
    expect(maxAbsDifference(await logits.data(), fx.logits.flat(2))).toBeLessThan(1e-5);
    const loss = languageModelLoss(model, batch);
    expect(Math.abs((await loss.data())[0] - fx.loss)).toBeLessThan(1e-5);
    tf.dispose([ids, logits, loss]);

    const { lr, betas, eps, weight_decay: weightDecay, grad_clip: gradClip } = fx.optimizer;
    const optimizer = new AdamW(model.namedParameters(), { lr, beta1: betas[0], beta2: betas[1], eps, weightDecay });
    expect(optimizer.decayedNames().sort()).toEqual([...fx.optimizer.decayed].sort()); // nanoGPT's two groups
    const step = trainStep({ model, optimizer, gradClip, loss: (b: typeof batch) => languageModelLoss(model, b) });
    for (let i = 0; i < fx.optimizer.steps; i++) {
      const { loss: l, gradNorm } = await step([batch], lr);
      expect(Math.abs(l - fx.losses[i]), `loss before step ${i + 1}`).toBeLessThan(1e-5);
      expect(Math.abs(gradNorm - fx.grad_norms[i]), `gradient norm at step ${i + 1}`).toBeLessThan(1e-5);
    }
    const final = await load('llmc_final.safetensors');
    const ours = model.stateDict();
    let worst = 0;
    for (const [name, t] of Object.entries(final)) worst = Math.max(worst, maxAbsDifference(await ours[name].data(), await t.data()));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([...Object.values(final), ...Object.values(ours)]);
    optimizer.dispose();
    model.dispose();
  });
});
