// EncoderDecoderTransformer against PyTorch (tooling/fixtures/blocks.py):
// post-norm with shared, tied embeddings and pre-norm with separate ones;
// logits and every kind of attention to 1e-4, on cpu and wasm.
import { readFileSync } from 'node:fs';
import { Rng, ShapeError, initBackend, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { expectNoLeak, maxAbsDifference as maxDiff } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncoderDecoderConfig } from './config.js';
import { presets } from './config.js';
import { EncoderDecoderTransformer } from './encoder-decoder.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
interface Fixture {
  config: Record<string, number | string | boolean>;
  keys: string[];
  src: number[][];
  tgt: number[][];
  logits: number[];
  encoder_attention_last: number[];
  decoder_attention_last: number[];
  cross_attention_last: number[];
  num_params: number;
}

function toConfig(c: Fixture['config']): EncoderDecoderConfig {
  return {
    srcVocabSize: c.src_vocab_size as number,
    tgtVocabSize: c.tgt_vocab_size as number,
    blockSize: c.max_len as number,
    nEncoderLayer: c.n_encoder_layer as number,
    nDecoderLayer: c.n_decoder_layer as number,
    nHead: c.n_head as number,
    dModel: c.d_model as number,
    dFF: c.d_ff as number,
    dropout: 0,
    bias: c.bias as boolean,
    norm: c.norm as 'pre' | 'post',
    sharedEmbeddings: c.shared_embeddings as boolean,
    tieOutput: c.tie_output as boolean,
    activation: c.activation as 'relu' | 'gelu',
  };
}

async function load(name: string) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8')) as Fixture;
  const model = new EncoderDecoderTransformer(toConfig(fx.config)).eval();
  const { tensors } = await loadSafetensorsFile(new URL(`${name}.safetensors`, fixtures).pathname);
  model.loadStateDict(tensors);
  tf.dispose(Object.values(tensors));
  return { model, fx };
}

describe.each(['cpu', 'wasm'] as const)('EncoderDecoderTransformer on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  for (const name of ['encdec_post', 'encdec_pre']) {
    it(`matches PyTorch (${name}): logits, encoder, decoder and cross attention`, async () => {
      const { model, fx } = await load(name);
      expect(model.numParameters()).toBe(fx.num_params);
      expect(model.namedParameters().map(([n]) => n).sort()).toEqual([...fx.keys].sort());
      const { logits, attention } = model.forward(ids2d(fx.src), ids2d(fx.tgt), { returnAttention: true });
      expect(logits.shape).toEqual([2, 5, 16]);
      expect(maxDiff(await logits.data(), fx.logits)).toBeLessThan(1e-4);
      expect(attention!.encoder[1].shape).toEqual([2, 2, 7, 7]);
      expect(attention!.decoder[1].shape).toEqual([2, 2, 5, 5]);
      expect(attention!.cross[1].shape).toEqual([2, 2, 5, 7]);
      expect(maxDiff(await attention!.encoder[1].data(), fx.encoder_attention_last)).toBeLessThan(1e-4);
      expect(maxDiff(await attention!.decoder[1].data(), fx.decoder_attention_last)).toBeLessThan(1e-4);
      expect(maxDiff(await attention!.cross[1].data(), fx.cross_attention_last)).toBeLessThan(1e-4);
      tf.dispose([logits, ...attention!.encoder, ...attention!.decoder, ...attention!.cross]);
      model.dispose();
    });
  }

  it('decodes step by step with caches as in one pass', async () => {
    const { model, fx } = await load('encdec_pre');
    const full = model.forward(ids2d(fx.src), ids2d(fx.tgt)).logits;
    const { memory } = model.encode(ids2d(fx.src));
    const cache = model.createCache();
    const steps: tf.Tensor[] = [];
    for (let t = 0; t < 5; t++) steps.push(model.decode(ids2d(fx.tgt.map((row) => [row[t]])), memory, { cache }).logits);
    const stepped = tf.concat(steps, 1);
    expect(maxDiff(await stepped.data(), await full.data())).toBeLessThan(1e-5);
    for (const c of [...cache.self!, ...cache.cross]) c.dispose();
    tf.dispose([full, memory, stepped, ...steps]);
    model.dispose();
  });

  it('masks source padding: padded positions do not change the output', async () => {
    const { model, fx } = await load('encdec_post');
    const src = [fx.src[0].slice(0, 5)];
    const padded = [[...src[0], 0, 0]];
    const mask = tf.tensor2d([[false, false, false, false, false, true, true]], undefined, 'bool');
    const a = model.forward(ids2d(src), ids2d([fx.tgt[0]]));
    const b = model.forward(ids2d(padded), ids2d([fx.tgt[0]]), { srcPaddingMask: mask, returnAttention: true });
    expect(maxDiff(await a.logits.data(), await b.logits.data())).toBeLessThan(1e-5);
    const cross = (await b.attention!.cross[0].array())[0][0][0];
    expect(cross.slice(5)).toEqual([0, 0]);
    tf.dispose([mask, a.logits, b.logits, ...b.attention!.encoder, ...b.attention!.decoder, ...b.attention!.cross]);
    model.dispose();
  });

  it('names bad ids, long sequences and bad configs', () => {
    const model = new EncoderDecoderTransformer({ ...presets['mini-transformer'], srcVocabSize: 10, tgtVocabSize: 10, blockSize: 6, nEncoderLayer: 1, nDecoderLayer: 1, dModel: 16, dFF: 32, nHead: 2 });
    expect(() => model.forward(tf.tensor2d([[1, 2]]), ids2d([[1]]))).toThrow('EncoderDecoderTransformer: source ids must be int32 [B, T], found float32 [1, 2]');
    expect(() => model.forward(ids2d([[1]]), ids2d([[1, 2, 3, 4, 5, 6, 7]]))).toThrow(ShapeError);
    expect(() => model.forward(ids2d([[1]]), ids2d([[1, 2, 3, 4, 5, 6, 7]]))).toThrow('a target sequence of 7 tokens is longer than blockSize 6');
    expect(() => new EncoderDecoderTransformer({ ...presets['mini-transformer'], tgtVocabSize: 5 })).toThrow('sharedEmbeddings needs srcVocabSize (1000) = tgtVocabSize (5)');
    model.dispose();
  });

  it('leaks no tensors in forward and forward+backward (dropout on)', async () => {
    const model = new EncoderDecoderTransformer(
      { ...presets['mini-transformer'], srcVocabSize: 12, tgtVocabSize: 12, blockSize: 8, nEncoderLayer: 2, nDecoderLayer: 2, dModel: 16, dFF: 32, nHead: 2 },
      { rng: new Rng(3) },
    );
    const src = tf.tensor2d([[1, 2, 3], [4, 5, 6]], undefined, 'int32');
    const tgt = tf.tensor2d([[1, 7], [1, 8]], undefined, 'int32');
    await expectNoLeak(() => tf.tidy(() => void model.forward(src, tgt, { returnAttention: true })));
    await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => tf.mean(tf.square(model.forward(src, tgt).logits)) as tf.Scalar)), { warmup: 1 });
    tf.dispose([src, tgt]);
    model.dispose();
  });
});
