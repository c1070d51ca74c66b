// The encoder-only model against PyTorch (tooling/fixtures/blocks.py): hidden
// states, the pointer's logits and the pointer layer's attention on a padded
// batch, and the gradients of the pointer loss, pre-norm and post-norm, on cpu
// and wasm. Then what the design promises: the same Block as the other models,
// attention in both directions, the pointer equal to its head's attention row,
// padding that changes nothing, errors, no leaks.
import { readFileSync } from 'node:fs';
import { Rng, ShapeError, TxError, initBackend, tf } from '@tx/core';
import { SelfAttention } from '@tx/attention';
import { loadSafetensorsFile } from '@tx/core/node';
import { expectNoLeak, maxAbsDifference as maxDiff } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Block } from '../layers/block.js';
import { encoderConfig, type EncoderConfig } from './config.js';
import { Encoder } from './encoder.js';
import { EncoderDecoderTransformer } from './encoder-decoder.js';
import { GPT } from './gpt.js';
import { encoderParameters, estimateEncoderMemory } from './memory.js';
import { buildModel, modelVocabSize, parseModelSpec } from './spec.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
const int1d = (values: number[]) => tf.tensor1d(values, 'int32');
const bool2d = (rows: boolean[][]) => tf.tensor2d(rows.map((r) => r.map(Number)), undefined, 'bool');

interface Fixture {
  config: Record<string, unknown>;
  keys: string[];
  ids: number[][];
  pad: boolean[][];
  query: number[];
  target: number[];
  hidden: number[];
  pointer: (number | null)[][];
  pointer_softmax: number[];
  attention_pointer_layer: number[];
  loss: number;
  grad_embed: number[];
  grad_c_attn: number[];
  num_params: number;
}

function toConfig(c: Fixture['config']): EncoderConfig {
  return {
    vocabSize: c.vocab_size as number, blockSize: c.max_len as number, nLayer: c.n_layer as number, nHead: c.n_head as number,
    dModel: c.d_model as number, dFF: c.d_ff as number, dropout: 0, bias: c.bias as boolean, norm: c.norm as 'pre' | 'post',
    activation: c.activation as 'relu' | 'gelu', pointerHead: c.pointer_head as [number, number],
  };
}

async function load(name: string) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8')) as Fixture;
  const model = new Encoder(toConfig(fx.config)).eval();
  const { tensors } = await loadSafetensorsFile(new URL(`${name}.safetensors`, fixtures).pathname);
  model.loadStateDict(tensors);
  tf.dispose(Object.values(tensors));
  return { model, fx };
}

/** Mean cross-entropy of pointer logits [B, T] against target positions, as F.cross_entropy. */
function pointerLoss(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(target, logits.shape[1]!).toFloat()), 1))) as tf.Scalar);
}

describe.each(['cpu', 'wasm'] as const)('Encoder on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  for (const name of ['encoder_pre', 'encoder_post']) {
    it(`matches PyTorch (${name}): hidden states, pointer logits, the pointer layer's attention, the loss's gradients`, async () => {
      const { model, fx } = await load(name);
      expect(model.numParameters()).toBe(fx.num_params);
      expect(model.namedParameters().map(([n]) => n).sort()).toEqual([...fx.keys].sort());
      const [ids, query, pad, target] = [ids2d(fx.ids), int1d(fx.query), bool2d(fx.pad), int1d(fx.target)];
      const { hidden, pointer, attention } = model.forward(ids, { query, paddingMask: pad, returnAttention: true });
      expect(pointer!.shape).toEqual([2, 7]);
      expect(maxDiff(await hidden.data(), fx.hidden)).toBeLessThan(1e-4);
      const logits = (await pointer!.array()) as number[][];
      fx.pointer.forEach((row, b) => row.forEach((want, j) => {
        if (want === null) expect(logits[b][j]).toBeLessThan(-1e8); // padding: BLOCKED where PyTorch has -inf
        else expect(Math.abs(logits[b][j] - want)).toBeLessThan(1e-4);
      }));
      expect(maxDiff(await tf.softmax(pointer!).data(), fx.pointer_softmax)).toBeLessThan(1e-5);
      const layer = (fx.config.pointer_head as number[])[0];
      expect(maxDiff(await attention![layer].data(), fx.attention_pointer_layer)).toBeLessThan(1e-5);

      const { value, grads } = tf.variableGrads(() => pointerLoss(model.forward(ids, { query, paddingMask: pad }).pointer!, target), [model.embed.weight, model.h.at(layer).attn.c_attn.weight]);
      expect(Math.abs((await value.data())[0] - fx.loss)).toBeLessThan(1e-5);
      const gradOf = (v: tf.Variable) => grads[v.name];
      expect(maxDiff(await gradOf(model.embed.weight).data(), fx.grad_embed)).toBeLessThan(1e-5);
      // c_attn is held as [in, out]; PyTorch's gradient is [out, in].
      const gAttn = tf.transpose(gradOf(model.h.at(layer).attn.c_attn.weight));
      expect(maxDiff(await gAttn.data(), fx.grad_c_attn)).toBeLessThan(1e-5);
      tf.dispose([ids, query, pad, target, hidden, pointer!, ...attention!, value, gAttn, ...Object.values(grads)]);
      model.dispose();
    });
  }

  it('is built from the Block of the other models, non-causal, and its attention runs in both directions', async () => {
    const config = encoderConfig(10, { nLayer: 2, nHead: 2, dModel: 8, blockSize: 8 });
    const model = new Encoder(config, { rng: new Rng(3) }).eval();
    const gpt = new GPT({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true });
    const ed = new EncoderDecoderTransformer({ srcVocabSize: 10, tgtVocabSize: 10, blockSize: 8, nEncoderLayer: 1, nDecoderLayer: 1, nHead: 2, dModel: 8, dFF: 32, dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu' });
    for (const block of [model.h.at(0), model.h.at(1), gpt.h.at(0), ed.encoderBlocks.at(0)]) expect(block).toBeInstanceOf(Block);
    expect(model.h.at(1).attn).toBeInstanceOf(SelfAttention);
    expect(model.h.at(1).attn.causal).toBe(false);
    expect(model.h.at(0).cross_attn).toBeNull();
    expect(model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('h.0.'))).toEqual(ed.namedParameters().map(([n]) => n).filter((n) => n.startsWith('encoder.h.0.')).map((n) => n.slice('encoder.'.length)));

    const ids = ids2d([[1, 2, 3, 4, 5]]);
    const later = ids2d([[1, 2, 3, 4, 9]]); // only the last token differs
    const a = model.forward(ids, { returnAttention: true });
    const b = model.forward(later);
    const attention = (await a.attention![0].array()) as number[][][][];
    expect(attention[0][0][0][4]).toBeGreaterThan(0.01); // the first token looks at the last one
    const [ha, hb] = [(await a.hidden.array()) as number[][][], (await b.hidden.array()) as number[][][]];
    expect(Math.max(...ha[0][0].map((v, i) => Math.abs(v - hb[0][0][i])))).toBeGreaterThan(1e-5); // so changing the last changes the first (causally: exactly 0)
    tf.dispose([ids, later, a.hidden, ...a.attention!, b.hidden]);
    [model, gpt, ed].forEach((m) => m.dispose());
  });

  it("points with its head: softmax(pointer) is pointerHead's attention row from the query, padding gets nothing", async () => {
    const model = new Encoder({ ...encoderConfig(12, { nLayer: 2, nHead: 4, dModel: 16, blockSize: 8 }), pointerHead: [1, 2] }, { rng: new Rng(7) }).eval();
    const ids = ids2d([[3, 4, 5, 6, 7, 8], [9, 10, 11, 0, 0, 0]]);
    const pad = bool2d([[false, false, false, false, false, false], [false, false, false, true, true, true]]);
    const query = int1d([4, 1]);
    const { pointer, attention } = model.forward(ids, { query, paddingMask: pad, returnAttention: true });
    const p = (await tf.softmax(pointer!).array()) as number[][];
    const att = (await attention![1].array()) as number[][][][];
    expect(maxDiff(p[0], att[0][2][4])).toBeLessThan(1e-6);
    expect(maxDiff(p[1], att[1][2][1])).toBeLessThan(1e-6);
    expect(p[1].slice(3)).toEqual([0, 0, 0]);
    // The same sentence without padding: the same pointer over its own tokens.
    const short = ids2d([[9, 10, 11]]);
    const alone = model.forward(short, { query: int1d([1]) });
    expect(maxDiff(await alone.pointer!.data(), ((await pointer!.array()) as number[][])[1].slice(0, 3))).toBeLessThan(1e-5);
    tf.dispose([ids, pad, query, pointer!, ...attention!, short, alone.hidden, alone.pointer!]);
    model.dispose();
  });

  it('names bad ids, queries, lengths and configs', () => {
    const model = new Encoder(encoderConfig(10, { nLayer: 1, nHead: 2, dModel: 8, blockSize: 4 }));
    expect(() => model.forward(tf.tensor2d([[1, 2]]))).toThrow('Encoder: ids must be int32 [B, T], found float32 [1, 2]');
    expect(() => model.forward(ids2d([[1, 2, 3, 4, 5]]))).toThrow(ShapeError);
    expect(() => model.forward(ids2d([[1, 2, 3, 4, 5]]))).toThrow('a sequence of 5 tokens is longer than blockSize 4');
    expect(() => model.forward(ids2d([[1, 2]]), { query: int1d([0, 1]) })).toThrow('Encoder: query must be int32 [B] = [1] (one position per sequence), found int32 [2]');
    expect(() => new Encoder({ ...encoderConfig(10), pointerHead: [2, 0] })).toThrow('pointerHead must be [layer, head] with layer in [0, 2) and head in [0, 4), got [2,0]');
    expect(() => new Encoder({ ...encoderConfig(10), dModel: 30 })).toThrow('dModel (30) must be divisible by nHead (4)');
    model.dispose();
  });

  it('is a ModelSpec kind: built, counted and read back from a file, naming a bad field', () => {
    const config = encoderConfig(20, { nLayer: 2, nHead: 2, dModel: 8, blockSize: 6 });
    const model = buildModel({ kind: 'encoder', config });
    expect(model).toBeInstanceOf(Encoder);
    expect(model.numParameters()).toBe(encoderParameters(config));
    expect(encoderParameters({ ...config, norm: 'post', bias: false })).toBe(new Encoder({ ...config, norm: 'post', bias: false }).numParameters());
    expect(modelVocabSize({ kind: 'encoder', config })).toBe(20);
    expect(parseModelSpec(JSON.parse(JSON.stringify({ kind: 'encoder', config })), 'x/config.json')).toEqual({ kind: 'encoder', config });
    expect(() => parseModelSpec({ kind: 'encoder', config: { ...config, pointerHead: 'last' } }, 'x/config.json')).toThrow(TxError);
    expect(() => parseModelSpec({ kind: 'encoder', config: { ...config, pointerHead: 'last' } }, 'x/config.json')).toThrow('x/config.json: model.config is a bad EncoderConfig: pointerHead must be [layer, head]');
    expect(() => parseModelSpec({ kind: 'bert', config }, 'x/config.json')).toThrow('x/config.json: model.kind must be "gpt", "encoder-decoder", "encoder" or "llama", got "bert"');
    // Training: 4 copies of the weights; per token and layer 12·C + 2·ff + 3·H·T floats, and the pointer logits 3 per token.
    const e = estimateEncoderMemory(config, { batchSize: 4, training: true });
    expect(e.parameterBytes).toBe(encoderParameters(config) * 16);
    expect(e.activationBytes).toBe(4 * 6 * (2 * (12 * 8 + 2 * 32 + 3 * 2 * 6) + 3) * 4);
    model.dispose();
  });

  it('leaks no tensors in forward and forward+backward (dropout on)', async () => {
    const model = new Encoder({ ...encoderConfig(12, { nLayer: 2, nHead: 2, dModel: 8, blockSize: 8 }), dropout: 0.1 }, { rng: new Rng(3) });
    const ids = ids2d([[1, 2, 3], [4, 5, 0]]);
    const pad = bool2d([[false, false, false], [false, false, true]]);
    const query = int1d([2, 0]);
    const target = int1d([0, 1]);
    await expectNoLeak(() => tf.tidy(() => void model.forward(ids, { query, paddingMask: pad, returnAttention: true, returnQKV: true })));
    await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => pointerLoss(model.forward(ids, { query, paddingMask: pad }).pointer!, target))), { warmup: 1 });
    tf.dispose([ids, pad, query, target]);
    model.dispose();
  });
});
