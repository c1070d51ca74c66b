import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EncoderDecoderTransformer, GPT, type EncoderDecoderConfig } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { saveSafetensorsFile } from '@tx/core/node';
import { BpeTokenizer, CharTokenizer } from '@tx/tokenizer';
import { saveCheckpoint } from './checkpoint.js';
import { huggingFaceFiles } from './huggingface.js';
import { loadModel } from './load-node.js';
import { exportManifest } from './manifest.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const names = CharTokenizer.fromText('\nabcdefghij');
const gptConfig = { vocabSize: names.vocabSize, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
const ids = [0, 3, 4, 5];

/** The last position's logits of a GPT for `ids`. */
function lastLogits(model: GPT, input: number[]): number[] {
  return tf.tidy(() => Array.from(model.forward(tf.tensor2d([input], undefined, 'int32')).logits.slice([0, input.length - 1, 0], [1, 1, -1]).dataSync()));
}

describe('loadModel', () => {
  it('loads a tx train checkpoint as a GPT with its tokenizer, the weights it saved, and the names task defaults', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tx-load-')), 'names');
    const saved = new GPT(gptConfig, { rng: new Rng(3) });
    const config = { format: 'tx-checkpoint', version: 1, task: 'names', settings: {}, model: { kind: 'gpt', config: gptConfig }, training: { step: 0, rngState: new Rng(1).getState() } };
    await saveCheckpoint(dir, { model: saved, config, tokenizer: names.toJSON() });

    const loaded = await loadModel(dir);
    expect(loaded.kind).toBe('gpt');
    if (loaded.kind !== 'gpt') return;
    expect(loaded.task).toBe('names');
    expect(loaded.model.training).toBe(false);
    expect(loaded.tokenizer.decode(loaded.tokenizer.encode('abc'))).toBe('abc');
    expect(loaded.start).toEqual([names.encode('\n')[0]]);
    expect(loaded.defaults.stop).toEqual(['\n']);
    expect(lastLogits(loaded.model, ids)).toEqual(lastLogits(saved, ids)); // the same weights, bit for bit
    loaded.model.dispose();
    saved.dispose();
  });

  it('loads a tx export of an encoder-decoder: start at <bos>, end at <eos>', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-load-'));
    const tokenizer = CharTokenizer.fromText('0123456789-', { specialTokens: ['<pad>', '<bos>', '<eos>'] });
    const V = tokenizer.vocabSize;
    const config: EncoderDecoderConfig = { srcVocabSize: V, tgtVocabSize: V, blockSize: 12, nEncoderLayer: 1, nDecoderLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu' };
    const model = new EncoderDecoderTransformer(config, { rng: new Rng(1) });
    const specials = { pad: tokenizer.specialTokens['<pad>'], bos: tokenizer.specialTokens['<bos>'], eos: tokenizer.specialTokens['<eos>'] };
    const state = model.stateDict();
    await saveSafetensorsFile(join(dir, 'model.safetensors'), state, { format: 'pt' });
    tf.dispose(Object.values(state));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(exportManifest('dates', { kind: 'encoder-decoder', config, specials })));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()));

    const loaded = await loadModel(dir);
    expect(loaded.kind).toBe('encoder-decoder');
    if (loaded.kind !== 'encoder-decoder') return;
    expect(loaded.start).toEqual([specials.bos]);
    expect(loaded.defaults.eosId).toBe(specials.eos);
    expect(loaded.specials).toEqual(specials);
    loaded.model.dispose();
    model.dispose();
  });

  it('loads a Hugging Face GPT-2 folder, whose samples start and end at <|endoftext|>', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-load-'));
    const bpe = BpeTokenizer.train('the cat sat on the mat', { vocabSize: 260, pattern: 'gpt2', specialTokens: ['<|endoftext|>'] });
    const saved = new GPT({ ...gptConfig, vocabSize: bpe.vocabSize }, { rng: new Rng(5) });
    const files = huggingFaceFiles(saved, bpe);
    await saveSafetensorsFile(join(dir, 'model.safetensors'), files.tensors, { format: 'pt' });
    tf.dispose(Object.values(files.tensors));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(files.config));
    writeFileSync(join(dir, 'tx-tokenizer.json'), JSON.stringify(files.txTokenizer));

    const loaded = await loadModel(dir);
    expect(loaded.kind).toBe('gpt');
    if (loaded.kind !== 'gpt') return;
    const eot = bpe.specialTokens['<|endoftext|>'];
    expect(loaded.task).toBe('huggingface');
    expect(loaded.start).toEqual([eot]);
    expect(loaded.defaults.eosId).toBe(eot);
    expect(lastLogits(loaded.model, ids)).toEqual(lastLogits(saved, ids));
    loaded.model.dispose();
    saved.dispose();
  });

  it('names the folder when there is nothing to load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-load-'));
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(`no model at ${join(dir, 'nope')}: the folder does not exist`);
    await expect(loadModel(dir)).rejects.toThrow(`no model at ${dir}: config.json is missing`);
  });
});
