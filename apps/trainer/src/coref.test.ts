// tx train --task coref, tx eval and tx inspect on a coref checkpoint, in-process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoder } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { WordTokenizer } from '@tx/tokenizer';
import { corefTokenizer, evaluateCoref, makeCorefExamples } from '@tx/train';
import { describe, expect, it } from 'vitest';
import { OUTSIDE } from './commands/coref.js';
import { answer } from './coref-train.js';
import { openCheckpoint } from './model-io.js';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));
const TIRED = "The animal didn't cross the street because it was too tired.";
const WIDE = "The animal didn't cross the street because it was too wide.";
const NO_NOUN = 'tx: --text has no noun "it" could refer to; the model answers with one of its 20 nouns (animal, dog, cat, horse, cow, fox, child, boy, girl, man, woman, street, road, river, bridge, field, square, track, stream, highway)\n';

describe('tx: the coref task', () => {
  const out = join(tmp(), 'coref');

  it('trains an encoder whose pointer head finds the referent of "it" in held-out sentences', async () => {
    // The task's own model (2 layers, 4 heads, 64 channels), 200 of its 400 steps, 4 eval batches.
    const { code, stdout, stderr } = await runTx(['train', '--task', 'coref', '--config', tinyConfig({ evalIters: 4 }), '--max-iters', '200', '--eval-interval', '100', '--out', out, '--backend', 'wasm', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const ev = events(stdout);
    expect(ev[0]).toMatchObject({ event: 'start', task: 'coref', backend: 'wasm', vocabSize: 80, parameters: 105_216 });
    const evals = ev.filter((e) => e.event === 'eval');
    expect(evals.map((e) => e.step)).toEqual([100, 200]);
    expect(evals[1].accuracy).toBeGreaterThanOrEqual(0.95);
    expect(evals[1].headAccuracy).toBeGreaterThanOrEqual(0.95);
    // The reported accuracy is the checkpoint's on the 256 fixed validation sentences: recompute it.
    const opened = await openCheckpoint(out, { bytes: 1e9, reason: 'test' });
    const score = await evaluateCoref(opened.model as Encoder, opened.tokenizer as WordTokenizer, makeCorefExamples(256, new Rng(1337 + 7), 'val'));
    expect(evals[1]).toMatchObject({ accuracy: score.accuracy, headAccuracy: score.headAccuracy });
    opened.model.dispose();
    const samples = ev.filter((e) => e.event === 'sample');
    expect(samples.map((e) => [e.text, e.referent.token])).toEqual([[TIRED, 'animal'], [WIDE, 'street']]);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ format: 'tx-checkpoint', task: 'coref', model: { kind: 'encoder', config: { pointerHead: [1, 0], nLayer: 2, nHead: 4, dModel: 64 } }, training: { step: 200 } });
    expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'))).toMatchObject({ kind: 'word', pad: '<pad>', unk: '<unk>' });
  }, 300_000);

  it('evaluates on 1,000 fresh held-out sentences: accuracy and how often the coref head looks at the referent', async () => {
    const { code, stdout } = await runTx(['eval', '--checkpoint', out, '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    const opened = await openCheckpoint(out, { bytes: 1e9, reason: 'test' });
    const score = await evaluateCoref(opened.model as Encoder, opened.tokenizer as WordTokenizer, makeCorefExamples(1000, new Rng(1337 + 99), 'val'));
    opened.model.dispose();
    expect(r).toEqual({ task: 'coref', examples: 1000, accuracy: score.accuracy, headAccuracy: score.headAccuracy, meanProbability: score.meanProbability, corefHead: [1, 0] });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
  }, 120_000);

  it('inspects: tokens, ids, attention, the pronoun, the referent with its probability, and the coref head', async () => {
    for (const [text, want] of [[TIRED, 'animal'], [WIDE, 'street']]) {
      const { code, stdout } = await runTx(['inspect', '--checkpoint', out, '--text', text, '--json']);
      expect(code).toBe(0);
      const r = JSON.parse(stdout);
      expect(Object.keys(r).sort()).toEqual(['attention', 'candidates', 'corefHead', 'fitsGrammar', 'ids', 'pronoun', 'referent', 'tokens']);
      expect([r.candidates, r.fitsGrammar]).toEqual([[1, 5], true]);
      expect(r.tokens).toEqual(['the', 'animal', "didn't", 'cross', 'the', 'street', 'because', 'it', 'was', 'too', text.includes('tired') ? 'tired' : 'wide', '.']);
      expect(r.ids).toHaveLength(12);
      expect(r.pronoun).toBe(7);
      expect(r.corefHead).toEqual([1, 0]);
      expect([r.attention.length, r.attention[0].length, r.attention[0][0].length, r.attention[0][0][0].length]).toEqual([2, 4, 12, 12]);
      for (const row of r.attention[1][3]) expect(row.reduce((a: number, b: number) => a + b)).toBeCloseTo(1, 4);
      expect(r.referent).toEqual({ index: r.tokens.indexOf(want), token: want, p: r.referent.p });
      // p is the coref head's attention from "it" to the referent, and it is the largest there among the other tokens.
      const row: number[] = r.attention[1][0][7];
      expect(r.referent.p).toBeCloseTo(row[r.referent.index], 5);
      expect(Math.max(...row.filter((_, j) => j !== 7))).toBe(row[r.referent.index]);
    }
    const plain = await runTx(['inspect', '--checkpoint', out, '--text', WIDE]);
    expect(plain.stdout).toMatch(/^it = street \(word 5, p [01]\.\d{4}\): layer 1, head 0's attention from "it" \(word 7\)$/m);
    expect(plain.stdout).not.toContain('outside what this model was trained on');
  }, 120_000);

  it('flags a sentence outside the grammar, and still answers with one of its nouns', async () => {
    // The repro: the grammar's roles swapped (a street does not cross an animal).
    const text = "The street didn't cross the animal because it was too tired.";
    const json = await runTx(['inspect', '--checkpoint', out, '--text', text, '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect([r.pronoun, r.candidates, r.fitsGrammar]).toEqual([7, [1, 5], false]);
    expect([1, 5]).toContain(r.referent.index);
    const plain = await runTx(['inspect', '--checkpoint', out, '--text', text]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^tokens: /), expect.stringMatching(/^it = (street|animal) \(word [15], /), OUTSIDE, expect.stringMatching(/^attention: 2 layers x 4 heads/)]);
    expect(OUTSIDE).toContain('outside what this model was trained on');
  }, 120_000);

  it.each([
    [['inspect', '--text', 'The zebra did not cross the street because it was too purple.'], 'tx: --text: "zebra" and "purple" are not in the model\'s vocabulary of 78 words (the coref grammar\'s)\n'],
    [['inspect', '--text', 'The dog crossed it.'], 'tx: --text: "crossed" is not in the model\'s vocabulary of 78 words (the coref grammar\'s)\n'],
    [['inspect', '--text', "The animal didn't cross the street."], 'tx: --text has no pronoun ("it"): the coref model says which word "it" refers to\n'],
    [['inspect', '--text', 'it was it.'], 'tx: --text has 2 pronouns ("it" at words 0, 2); give a text with one\n'],
    // The repros: no noun to point at, so no answer (not "it = it", nor oneHot's "depth must be >=2").
    ...['it', 'it .', 'The it', 'It was too wide.'].map((text): [string[], string] => [['inspect', '--text', text], NO_NOUN]),
    [['inspect', '--text', TIRED, '--layers', '0'], 'tx: --layers is not for a coref model: it shows every layer and head of the sentence\n'],
    [['sample'], null],
    [['eval', '--data', 'x.txt'], 'tx: --data is for language models; the coref task makes its own test sentences\n'],
  ] as Array<[string[], string | null]>)('%j on a coref checkpoint: one line, exit code 2', async (args, message) => {
    const { code, stderr } = await runTx([args[0], '--checkpoint', out, ...args.slice(1)]);
    expect(code).toBe(2);
    expect(stderr).toBe(message ?? `tx: this is a coref model: it answers instead of generating; ask it with tx inspect --checkpoint ${out} --text TEXT\n`);
  });

  it('refuses a context shorter than the longest sentence before training', async () => {
    const { code, stderr } = await runTx(['train', '--task', 'coref', '--config', tinyConfig({ blockSize: 8 }), '--out', join(tmp(), 'x')]);
    expect(code).toBe(2);
    expect(stderr).toBe('tx: --task coref needs blockSize >= 19 (its longest sentence, in words), got 8\n');
  });
});

describe('answer: the pointer lands only on a noun of the text', () => {
  it('takes the likeliest candidate even when the pointer likes "it" itself best, and reports the pointer\'s own probability', async () => {
    await initBackend({ prefer: 'cpu' });
    const words = corefTokenizer();
    // A stand-in encoder whose pointer logits are 10 on "it" (word 7), 2 on "animal" (1), 3 on "street" (5), 0 elsewhere.
    const logits = [0, 2, 0, 0, 0, 3, 0, 10, 0, 0, 0, 0];
    const model = { training: true, eval() {}, train() {}, forward: () => ({ pointer: tf.tensor2d([logits]) }) } as unknown as Encoder;
    const a = await answer(model, words, TIRED);
    const z = logits.reduce((s, v) => s + Math.exp(v), 0);
    expect(a).toMatchObject({ pronoun: 7, candidates: [1, 5], fitsGrammar: true, referent: { index: 5, token: 'street' } });
    expect(a.referent.p).toBeCloseTo(Math.exp(3) / z, 6);
    await expect(answer(model, words, 'The it')).rejects.toThrow('"The it": no noun "it" could refer to');
  });
});
