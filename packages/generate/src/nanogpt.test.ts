// Greedy sampling equals nanoGPT's sample.py: a char GPT trained in PyTorch
// (tooling/fixtures/nanogpt_sample.py), 200 tokens from a prompt that fills the
// context, so that every step past the first crops to the last blockSize ids.
import { readFileSync } from 'node:fs';
import { GPT, gptConfigFromNanoGPT, type NanoGPTModelArgs } from '@tx/blocks';
import { initBackend, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate.js';

const fixtures = new URL('../test/fixtures/', import.meta.url);
const fx = JSON.parse(readFileSync(new URL('nanogpt_sample.json', fixtures), 'utf8')) as { model_args: NanoGPTModelArgs; prompt: number[]; generated: number[] };

describe.each(['cpu', 'wasm'] as const)("nanoGPT's sample.py on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('200 greedy tokens equal nanoGPT, with and without the KV cache', async () => {
    const model = new GPT(gptConfigFromNanoGPT(fx.model_args)).eval();
    const { tensors } = await loadSafetensorsFile(new URL('nanogpt_sample.safetensors', fixtures).pathname);
    model.loadStateDict(tensors);
    tf.dispose(Object.values(tensors));
    expect(fx.prompt).toHaveLength(model.config.blockSize);
    for (const cache of [true, false]) {
      const out = await generate(model, fx.prompt, { greedy: true, maxNewTokens: 200, cache });
      expect(out.ids).toEqual(fx.generated);
    }
    // The faster policy is another model of the text: it sees 3/4 to all of the context.
    const restart = await generate(model, fx.prompt, { greedy: true, maxNewTokens: 200, contextOverflow: 'restart' });
    expect(restart.ids).not.toEqual(fx.generated);
    model.dispose();
  });
});
