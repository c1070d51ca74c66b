import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@tx/core';
import { generate } from '@tx/generate';
import { tokenArithmetic } from '../lib/arithmetic.js';
import { CharTokenizer } from '../lib/char-tokenizer.js';
import { datesCorpus } from '../data/dates.js';
import { GPT } from './gpt.js';
import { asLanguageModel, inspect } from './run.js';
import { Trainer } from './train.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const tok = CharTokenizer.fromText('abcdefgh ');
const cfg = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8 };

describe('the stand-in GPT', () => {
  it('uses nanoGPT parameter names and PyTorch layout', () => {
    const model = new GPT(cfg, new Rng(1));
    const dict = model.stateDict();
    expect(Object.keys(dict)).toContain('transformer.h.1.attn.c_attn.weight');
    expect(dict['transformer.h.1.attn.c_attn.weight'].shape).toEqual([24, 8]);
    expect(dict['lm_head.weight'].shape).toEqual([tok.vocabSize, 8]);
    expect(dict['transformer.wpe.weight'].shape).toEqual([16, 8]);
    model.dispose();
  });

  it('inspects: causal attention rows summing to 1, and Q/K/V that reproduce them', async () => {
    const model = new GPT(cfg, new Rng(2));
    const r = await inspect(model, tok, 'abc defg');
    expect(r.tokens.join('')).toBe('abc defg');
    expect(r.attention).toHaveLength(2);
    expect(r.attention[0]).toHaveLength(2);
    for (const row of r.attention[1][1]) expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    expect(r.attention[0][0][0].slice(1).every((w) => w < 1e-6)).toBe(true);
    // One token's arithmetic from the model's own Q, K and V gives the model's attention row.
    const [layer, head, query] = [1, 1, 5];
    const math = tokenArithmetic(r.q[layer][head][query], r.k[layer][head], r.v[layer][head], { query, causal: true });
    math.weights.forEach((w, j) => expect(w).toBeCloseTo(r.attention[layer][head][query][j], 5));
    expect(r.loss).toBeGreaterThan(0);
    model.dispose();
  });

  it('generates through @tx/generate', async () => {
    const model = new GPT(cfg, new Rng(3));
    const out = await generate(asLanguageModel(model), tok.encode('ab'), { maxNewTokens: 5, seed: 1, tokenizer: tok });
    expect(out.ids).toHaveLength(5);
    expect(out.text).toHaveLength(5);
    model.dispose();
  });
});

describe('Trainer', () => {
  it('lowers the loss on the dates task, and pauses and resumes at the same step', async () => {
    const corpus = datesCorpus(300, new Rng(7));
    const trainer = new Trainer(corpus, { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, lr: 1e-2, maxIters: 40, seed: 1, evalInterval: 1000 });
    const losses: number[] = [];
    for await (const e of trainer.run()) {
      if (e.event === 'step') {
        losses.push(e.loss);
        if (e.step === 15) trainer.pause();
      }
    }
    expect(trainer.step).toBe(15);
    for await (const e of trainer.run()) if (e.event === 'step') losses.push(e.loss);
    expect(trainer.step).toBe(40);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);
    trainer.dispose();
  });
});

describe('inspect beyond the context', () => {
  it('slides a window: each query attends to the last blockSize tokens, rows still sum to 1', async () => {
    await initBackend({ prefer: 'cpu' });
    const model = new GPT({ ...cfg, blockSize: 8 }, new Rng(4));
    const text = 'abcdefgh abcdefgh abcd';
    const r = await inspect(model, tok, text);
    expect(r.tokens).toHaveLength(text.length);
    expect(r.logits).toHaveLength(text.length);
    const row = r.attention[1][0][20];
    expect(row).toHaveLength(text.length);
    expect(row.slice(0, 13).every((w) => w === 0)).toBe(true);
    expect(row.slice(13, 21).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    // The row of a query in a later window equals a direct forward over that window.
    const direct = await inspect(model, tok, text.slice(13, 21));
    direct.attention[1][0][7].forEach((w, j) => expect(row[13 + j]).toBeCloseTo(w, 5));
    model.dispose();
  });
});
