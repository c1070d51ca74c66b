import { beforeAll, describe, expect, it } from 'vitest';
import { Encoder, EncoderDecoderTransformer, GPT, encoderConfig, seq2seqConfig } from '@tx/blocks';
import { Rng, TxError, initBackend, serializeSafetensors, tf } from '@tx/core';
import { generate } from '@tx/generate';
import { CharTokenizer, loadTokenizer } from '@tx/tokenizer';
import { corefTokenizer, exportManifest, makeExamples, specialsOf, taskTokenizer } from '@tx/train';
import { maxDiff, projectRow, tokenArithmetic } from '../lib/arithmetic.js';
import { weightsHeld } from '../lib/data.js';
import { downsampleMax } from '../lib/downsample.js';
import { fromFiles } from './checkpoint.js';
import { encodeKnown, inspect, unknownChars } from './run.js';
import { translate } from './seq2seq.js';
import { inspectEncoder } from './coref.js';
import { COREF_SETTINGS, CorefTrainer, Seq2SeqTrainer, Trainer } from './train.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const tok = CharTokenizer.fromText('abcdefgh ');
const cfg = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);
const datesText = (n: number, seed: number) => makeExamples('dates', n, new Rng(seed)).map((e) => `${e.source}=${e.target}`).join('\n');

describe('the @tx/blocks GPT in the views', () => {
  it('inspects one layer: causal attention rows summing to 1, and Q/K/V (from ln_1 + c_attn) that reproduce every row', async () => {
    const model = new GPT(cfg, { rng: new Rng(2) }).eval();
    for (const layer of [0, 1]) {
      const r = await inspect(model, tok, 'abc defg', { layer });
      expect(r.tokens.join('')).toBe('abc defg');
      expect(r.layer).toBe(layer);
      expect(r.attention).toHaveLength(2);
      expect(r.attention[layer]).toHaveLength(2);
      expect(r.attention[1 - layer]).toEqual([]); // the other layer is not read
      expect(r.q[1 - layer]).toEqual([]);
      for (const row of r.attention[layer][1]) expect(sum(row)).toBeCloseTo(1, 5);
      expect(Array.from(r.attention[layer][0][0]).slice(1).every((w) => w < 1e-6)).toBe(true);
      expect(r.q[layer][0]).toHaveLength(8);
      expect(r.q[layer][0][0]).toHaveLength(4); // head size 8 / 2
      // One token's arithmetic from the Q, K, V gives the model's own attention rows.
      let maxErr = 0;
      for (let head = 0; head < 2; head++) for (let query = 0; query < 8; query++) {
        const math = tokenArithmetic(r.q[layer][head][query], r.k[layer][head], r.v[layer][head], { query, causal: true });
        math.weights.forEach((w, j) => { maxErr = Math.max(maxErr, Math.abs(w - r.attention[layer][head][query][j])); });
      }
      expect(maxErr).toBeLessThan(1e-5);
      expect(r.loss).toBeGreaterThan(0);
      // The layer read also comes with ln_1(x), c_attn and c_proj: x·W_Q + b_Q is its q, Concat(heads)·W_O + b_O its attention output.
      expect(r.projections![1 - layer]).toBeNull();
      const P = r.projections![layer]!;
      let projErr = 0, outErr = 0;
      for (let t = 0; t < 8; t++) {
        const heads: number[] = [];
        for (let head = 0; head < 2; head++) {
          projErr = Math.max(projErr, maxDiff(projectRow(P.x[t], P.wqkv, P.bqkv, head * 4, head * 4 + 4), r.q[layer][head][t]), maxDiff(projectRow(P.x[t], P.wqkv, P.bqkv, 8 + head * 4, 12 + head * 4), r.k[layer][head][t]));
          heads.push(...tokenArithmetic(r.q[layer][head][t], r.k[layer][head], r.v[layer][head], { query: t, causal: true }).output);
        }
        outErr = Math.max(outErr, maxDiff(projectRow(heads, P.wo, P.bo), P.out[t]));
      }
      expect(projErr).toBeLessThan(1e-5);
      expect(outErr).toBeLessThan(1e-5);
    }
    await expect(inspect(model, tok, 'abc', { layer: 2 })).rejects.toThrow('layer 2: the model has layers 0..1');
    model.dispose();
  });

  it("reads back one layer, and the grid's thumbnails are every layer's attention max-pooled on the device", async () => {
    const model = new GPT(cfg, { rng: new Rng(6) }).eval();
    const ids = ids2d([tok.encode('abc defgh')]);
    const { logits, attention } = model.forward(ids, { returnAttention: true });
    const full = await Promise.all(attention!.map(async (a) => ((await a.array()) as number[][][][])[0]));
    tf.dispose([ids, logits, ...attention!]);
    const r = await inspect(model, tok, 'abc defgh', { layer: 1, thumbnail: 4 });
    expect(weightsHeld(r.attention)).toBe(2 * 9 * 9); // 2 heads x 9 queries x 9 keys, of one layer
    r.attention[1].forEach((head, h) => head.forEach((row, q) => Array.from(row).forEach((w, k) => expect(w).toBeCloseTo(full[1][h][q][k], 6))));
    // 9 tokens pooled to at most 4 cells a side: blocks of 3, so 3 x 3 cells.
    expect(r.thumbnails!.factor).toBe(3);
    for (const l of [0, 1]) for (const h of [0, 1]) {
      const expected = downsampleMax(full[l][h], 3);
      expect(r.thumbnails!.cells[l][h].map((row) => Array.from(row))).toEqual(expected.map((row) => Array.from(row)));
    }
    expect(Array.from(r.thumbnails!.cells[0][0][0])[0]).toBeCloseTo(1, 6); // the first token attends only to itself
    model.dispose();
  });

  it('keeps tf.memory().numTensors flat: inspecting (within and past the context) leaves no tensor behind', async () => {
    const model = new GPT({ ...cfg, blockSize: 8 }, { rng: new Rng(7) }).eval();
    await inspect(model, tok, 'abcdefgh abcdefgh'); // warm-up: the first call may keep backend state
    const before = tf.memory().numTensors;
    for (const layer of [0, 1, 0]) await inspect(model, tok, 'abcdefgh abcdefgh abcd', { layer });
    await inspect(model, tok, 'abc', { layer: 1 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('returnQKV: softmax(QKᵀ/√d) V through c_proj is the attention output of the block', () => {
    const model = new GPT(cfg, { rng: new Rng(5) }).eval();
    const ids = ids2d([[1, 2, 3, 4, 5]]);
    const { logits, qkv } = model.forward(ids, { returnQKV: true });
    const layer0 = qkv![0];
    const expected = tf.tidy(() => {
      const x = tf.add(model.wte.forward(ids), model.wpe.forward(5, 0));
      return model.h.at(0)!.attn.forward(model.h.at(0)!.ln_1.forward(x), { causal: true }).output;
    });
    const mine = tf.tidy(() => {
      const scores = tf.div(tf.matMul(layer0.q, layer0.k, false, true), Math.sqrt(4));
      const masked = tf.add(scores, tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([5, 5]), -1, 0)), -1e9));
      const y = tf.matMul(tf.softmax(masked), layer0.v); // [1, h, T, d]
      return model.h.at(0)!.attn.c_proj.forward(tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [1, 5, 8]));
    });
    expect(tf.max(tf.abs(tf.sub(expected, mine))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([ids, logits, expected, mine, ...qkv!.flatMap((l) => [l.q, l.k, l.v])]);
    model.dispose();
  });

  it('generates through @tx/generate with the KV cache', async () => {
    const model = new GPT(cfg, { rng: new Rng(3) }).eval();
    const out = await generate(model, tok.encode('ab'), { maxNewTokens: 5, seed: 1, tokenizer: tok });
    expect(out.ids).toHaveLength(5);
    expect(out.text).toHaveLength(5);
    model.dispose();
  });

  it('leaves out characters a character tokenizer has never seen', () => {
    expect(unknownChars(tok, 'abz!a')).toEqual(['z', '!']);
    expect(tok.decode(encodeKnown(tok, 'abz!a'))).toBe('aba');
  });
});

describe('inspect beyond the context', () => {
  it('slides a window: each query attends to the last blockSize tokens, rows still sum to 1', async () => {
    const model = new GPT({ ...cfg, blockSize: 8 }, { rng: new Rng(4) }).eval();
    const text = 'abcdefgh abcdefgh abcd';
    const r = await inspect(model, tok, text, { layer: 1 });
    expect(r.tokens).toHaveLength(text.length);
    const row = Array.from(r.attention[1][0][20]);
    expect(row).toHaveLength(text.length);
    expect(row.slice(0, 13).every((w) => w === 0)).toBe(true);
    expect(sum(row.slice(13, 21))).toBeCloseTo(1, 5);
    // The row of a query in a later window equals a direct forward over that window.
    const direct = await inspect(model, tok, text.slice(13, 21), { layer: 1 });
    Array.from(direct.attention[1][0][7]).forEach((w, j) => expect(row[13 + j]).toBeCloseTo(w, 5));
    model.dispose();
  });

  it('sums the loss on the device as the windows predict: the first window every next token, each later one its last', async () => {
    const model = new GPT({ ...cfg, blockSize: 8 }, { rng: new Rng(8) }).eval();
    const text = 'abcdefgh abcdefgh abcd';
    const ids = tok.encode(text);
    let nll = 0;
    for (let i = 0; i + 1 < ids.length; i++) {
      const start = Math.max(0, i - 7);
      const input = ids2d([ids.slice(start, i + 1)]);
      const logits = model.forward(input).logits;
      const row = Array.from((await logits.data()).slice((i - start) * tok.vocabSize, (i - start + 1) * tok.vocabSize));
      const max = Math.max(...row);
      nll -= row[ids[i + 1]] - max - Math.log(sum(row.map((x) => Math.exp(x - max))));
      tf.dispose([input, logits]);
    }
    const r = await inspect(model, tok, text);
    expect(r.loss).toBeCloseTo(nll / (ids.length - 1), 5);
    // Longer than the page reads: the start is dropped, and said so.
    const long = await inspect(model, tok, text, { maxTokens: 10 });
    expect([long.tokens.join(''), long.dropped]).toEqual([text.slice(-10), text.length - 10]);
    model.dispose();
  });
});

describe('Trainer (GPT)', () => {
  it('lowers the loss with gradient clipping, and pauses and resumes at the same step', async () => {
    const trainer = new Trainer(datesText(300, 7), { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, lr: 1e-2, maxIters: 40, seed: 1, evalInterval: 1000, gradClip: 1 });
    const losses: number[] = [];
    for await (const e of trainer.run()) {
      if (e.event === 'step') {
        losses.push(e.loss);
        if (e.step === 15) trainer.pause();
      }
    }
    expect(trainer.step).toBe(15);
    expect(Number.isFinite(trainer.gradNorm)).toBe(true);
    for await (const e of trainer.run()) if (e.event === 'step') losses.push(e.loss);
    expect(trainer.step).toBe(40);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);
    trainer.dispose();
  });
});

describe('the dates encoder-decoder', () => {
  it('uses the trainer\'s vocabulary: characters plus <pad>, <bos>, <eos>', () => {
    const t = taskTokenizer('dates');
    expect(specialsOf(t)).toEqual({ pad: t.vocabSize - 3, bos: t.vocabSize - 2, eos: t.vocabSize - 1 });
    for (const e of makeExamples('dates', 200, new Rng(9))) expect(t.decode(t.encode(e.source))).toBe(e.source);
  });

  it('trains (label smoothing 0.1), and translate() returns the cross-attention of each output character', async () => {
    const trainer = new Seq2SeqTrainer({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 48, batchSize: 8, lr: 1e-2, maxIters: 30, seed: 1, evalInterval: 1000 });
    const losses: number[] = [];
    for await (const e of trainer.run()) if (e.event === 'step') losses.push(e.loss);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5 - 0.5);
    const source = '27 Nov 2026';
    const r = await translate(trainer.model, trainer.tokenizer, trainer.tokenizer.encode(source));
    expect(r.source.join('')).toBe(source);
    expect(r.cross).toHaveLength(1); // decoder layers
    expect(r.cross[0]).toHaveLength(2); // heads
    expect(r.cross[0][0]).toHaveLength(r.target.length);
    for (const row of r.cross[0][1]) {
      expect(row).toHaveLength(source.length);
      expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    }
    expect(trainer.model.training).toBe(false);
    trainer.dispose();
  });
});

describe('the coref encoder', () => {
  const TIRED = "The animal didn't cross the street because it was too tired.";

  it('inspects: words as tokens, bidirectional attention, Q/K/V that reproduce every row, and the answer from the coref head', async () => {
    const tok = corefTokenizer();
    const model = new Encoder(encoderConfig(tok.vocabSize, { nLayer: 2, nHead: 2, dModel: 8, blockSize: 32 }), { rng: new Rng(3) });
    const r = await inspectEncoder(model, tok, TIRED);
    expect(r.tokens).toEqual(['the', 'animal', "didn't", 'cross', 'the', 'street', 'because', 'it', 'was', 'too', 'tired', '.']);
    expect([r.pronoun, r.corefHead, r.causal, r.unknown]).toEqual([7, [1, 0], false, []]);
    const row = Array.from(r.attention[1][0][7]);
    // The answer is the candidate noun ("animal" or "street") the coref head weighs more, never another word (an untrained model's light is anywhere).
    const best = row[1] >= row[5] ? 1 : 5;
    expect(r.referent).toEqual({ index: best, token: r.tokens[best], p: r.referent!.p });
    expect(r.referent!.p).toBeCloseTo(row[best], 5); // the answer's probability is the coref head's weight
    expect(r.verdict!.headline).toBe(`it = the ${r.tokens[best]}, ${Math.round(100 * row[best])}%`);
    let maxErr = 0;
    for (let layer = 0; layer < 2; layer++) for (let head = 0; head < 2; head++) for (let query = 0; query < 12; query++) {
      const math = tokenArithmetic(r.q[layer][head][query], r.k[layer][head], r.v[layer][head], { query, causal: false });
      math.weights.forEach((w, j) => { maxErr = Math.max(maxErr, Math.abs(w - r.attention[layer][head][query][j])); });
    }
    expect(maxErr).toBeLessThan(1e-5);
    expect(r.attention[0][1][0][11]).toBeGreaterThan(0); // the first word sees the last
    // x·W_Q, x·W_K, x·W_V from ln_1(x) and c_attn reproduce the model's q, k, v; Concat(heads)·W_O + b its attention output.
    let projErr = 0, outErr = 0;
    for (let layer = 0; layer < 2; layer++) for (let t = 0; t < 12; t++) {
      const P = r.projections![layer]!;
      const heads: number[] = [];
      for (let head = 0; head < 2; head++) {
        const [C, d] = [8, 4];
        projErr = Math.max(projErr,
          maxDiff(projectRow(P.x[t], P.wqkv, P.bqkv, head * d, (head + 1) * d), r.q[layer][head][t]),
          maxDiff(projectRow(P.x[t], P.wqkv, P.bqkv, C + head * d, C + (head + 1) * d), r.k[layer][head][t]),
          maxDiff(projectRow(P.x[t], P.wqkv, P.bqkv, 2 * C + head * d, 2 * C + (head + 1) * d), r.v[layer][head][t]));
        heads.push(...tokenArithmetic(r.q[layer][head][t], r.k[layer][head], r.v[layer][head], { query: t, causal: false }).output);
      }
      outErr = Math.max(outErr, maxDiff(projectRow(heads, P.wo, P.bo), P.out[t]));
    }
    expect(projErr).toBeLessThan(1e-5);
    expect(outErr).toBeLessThan(1e-5);
    const unknown = await inspectEncoder(model, tok, 'The zebra was tired.');
    expect([unknown.unknown, unknown.pronoun, unknown.referent]).toEqual([['zebra'], undefined, undefined]);
    // An unknown word keeps its text, flagged, where the model read <unk>.
    expect([unknown.tokens, unknown.unknownAt]).toEqual([['the', 'zebra', 'was', 'tired', '.'], [false, true, false, false, false]]);
    expect(unknown.ids[1]).toBe(tok.specialTokens['<unk>']);
    const trophy = await inspectEncoder(model, tok, "The trophy didn't fit in the suitcase because it was too big.");
    expect([trophy.tokens[1], trophy.tokens[6], trophy.referent, trophy.verdict!.headline]).toEqual(['trophy', 'suitcase', undefined, 'it = ?']);
    expect(trophy.note).toContain('This model fails it.');
    await expect(inspectEncoder(model, tok, 'it '.repeat(40))).rejects.toThrow('the text is 40 words; this model reads at most 32');
    model.dispose();
  });

  it('trains in the page: the loss falls, and the trained model loads as a `tx export` folder', async () => {
    const trainer = new CorefTrainer({ ...COREF_SETTINGS, nEmbd: 16, maxIters: 30, seed: 1, evalInterval: 1000 });
    const losses: number[] = [];
    for await (const e of trainer.run()) if (e.event === 'step') losses.push(e.loss);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5 - 0.5);
    const state = trainer.model.stateDict();
    const weights = await serializeSafetensors(state, { format: 'pt' });
    tf.dispose(Object.values(state));
    const loaded = fromFiles('c', { config: JSON.parse(JSON.stringify(exportManifest('coref', { kind: 'encoder', config: trainer.model.config }))), tokenizer: JSON.parse(JSON.stringify(trainer.tokenizer)), weights });
    expect(loaded.kind).toBe('encoder');
    const [a, b] = [await inspectEncoder(trainer.model, trainer.tokenizer, TIRED), await inspectEncoder(loaded.model as Encoder, loaded.tokenizer as never, TIRED)];
    expect(b.attention).toEqual(a.attention);
    expect(() => fromFiles('c', { config: exportManifest('coref', { kind: 'encoder', config: trainer.model.config }), tokenizer: tok.toJSON(), weights })).toThrow('c: an encoder reads words: expected a word tokenizer, found kind "char"');
    trainer.dispose();
    loaded.model.dispose();
  });
});

describe('checkpoints in the `tx export` format', () => {
  const save = async (model: GPT | EncoderDecoderTransformer) => {
    const state = model.stateDict();
    const bytes = await serializeSafetensors(state, { format: 'pt' });
    tf.dispose(Object.values(state));
    return bytes;
  };

  it('loads a GPT export (config.json as `tx export` writes it) with the same logits', async () => {
    const model = new GPT(cfg, { rng: new Rng(11) }).eval();
    const config = JSON.parse(JSON.stringify({ format: 'tx-export', version: 1, task: 'names', model: { kind: 'gpt', config: cfg }, files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' } }));
    const loaded = fromFiles('t', { config, tokenizer: JSON.parse(JSON.stringify(tok.toJSON())), weights: await save(model) });
    expect(loaded.kind).toBe('gpt');
    const a = model.forward(ids2d([[1, 2, 3]])).logits, b = (loaded.model as GPT).forward(ids2d([[1, 2, 3]])).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    expect(loaded.tokenizer.encode('abc')).toEqual(tok.encode('abc'));
    tf.dispose([a, b]);
    model.dispose();
    loaded.model.dispose();
  });

  it('loads an encoder-decoder export with its specials', async () => {
    const t = taskTokenizer('dates');
    const specials = specialsOf(t);
    const config = seq2seqConfig(t.vocabSize, { nLayer: 1, nHead: 2, dModel: 16 });
    const model = new EncoderDecoderTransformer(config, { rng: new Rng(12) });
    const loaded = fromFiles('d', { config: exportManifest('dates', { kind: 'encoder-decoder', config, specials }), tokenizer: t.toJSON(), weights: await save(model) });
    expect(loaded.kind).toBe('encoder-decoder');
    if (loaded.kind !== 'encoder-decoder') throw new Error('unreachable');
    expect(loaded.specials).toEqual(specials);
    expect(specialsOf(loadTokenizer(t.toJSON()))).toEqual(specials);
    const src = ids2d([t.encode('1 Jan 2000')]);
    const tgt = ids2d([[specials.bos, ...t.encode('2000')]]);
    const a = model.forward(src, tgt).logits, b = loaded.model.forward(src, tgt).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    tf.dispose([a, b]);
    model.dispose();
    loaded.model.dispose();
  });

  it('refuses what is not a `tx export` folder, naming the problem', async () => {
    expect(() => fromFiles('old', { config: { model: { type: 'gpt', n_layer: 2 } }, tokenizer: tok.toJSON(), weights: new Uint8Array() })).toThrow(TxError);
    expect(() => fromFiles('old', { config: { model: { type: 'gpt', n_layer: 2 } }, tokenizer: tok.toJSON(), weights: new Uint8Array() })).toThrow('old/config.json: not a tx model folder (format is undefined, expected "tx-export" or "tx-checkpoint")');
    expect(() => fromFiles('x', { config: { format: 'tx-export', version: 1, model: { kind: 'rnn', config: {} } }, tokenizer: tok.toJSON(), weights: new Uint8Array() })).toThrow('x/config.json: model.kind must be "gpt", "encoder-decoder", "encoder" or "llama", got "rnn"');
    expect(() => fromFiles('y', { config: { format: 'tx-export', version: 1, model: { kind: 'encoder-decoder', config: {} } }, tokenizer: tok.toJSON(), weights: new Uint8Array() })).toThrow(/^y\/config\.json: model\.config is a bad EncoderDecoderConfig: /);
  });
});
