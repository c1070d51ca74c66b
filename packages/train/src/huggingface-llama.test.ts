// Llama-family folders (tooling/fixtures/hf_llama.py: BF16 weights in two
// shards and an index, as save_pretrained writes them): read, built, and
// written back byte for byte; and folders whose index lies.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TxError, initBackend, tf } from '@tx/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { huggingFaceFolderFromLlama, llamaFromHuggingFace, storedDtype } from './huggingface-llama.js';
import { readHuggingFaceWeights } from './huggingface-shards.js';

const fixtures = join(import.meta.dirname, '../../blocks/test/fixtures/hf-llama');
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe.each(['llama', 'mistral', 'qwen2'])('%s folder', (arch) => {
  it('reads both shards and writes them back byte-identical, with the same index and config', async () => {
    const dir = join(fixtures, arch);
    const weights = await readHuggingFaceWeights(dir);
    expect(Object.keys(weights.weightMap!)).toHaveLength(Object.keys(weights.tensors).length);
    expect(storedDtype(weights.dtypes)).toBe('BF16');
    const { model } = llamaFromHuggingFace({ config: json(join(dir, 'config.json')), tensors: weights.tensors, tokenizerJson: json(join(dir, 'tokenizer.json')) }, dir);
    tf.dispose(Object.values(weights.tensors));
    const out = await huggingFaceFolderFromLlama(model, { dtype: 'BF16', weightMap: weights.weightMap }, json(join(dir, 'config.json')));
    model.dispose();
    const names = out.files.map((f) => f.name);
    expect(names).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'config.json']);
    for (const f of out.files.slice(0, 3)) {
      const bytes = typeof f.bytes === 'string' ? new TextEncoder().encode(f.bytes) : f.bytes;
      expect(Buffer.from(bytes).equals(readFileSync(join(dir, f.name))), f.name).toBe(true);
    }
    expect(JSON.parse(out.files[3].bytes as string)).toEqual(json(join(dir, 'config.json')));
  });
});

describe('hostile folders', () => {
  const copy = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-llama-'));
    cpSync(join(fixtures, 'llama'), dir, { recursive: true });
    return dir;
  };
  const index = (dir: string) => json(join(dir, 'model.safetensors.index.json')) as { weight_map: Record<string, string> };
  const rewrite = (dir: string, edit: (map: Record<string, string>) => void) => {
    const i = index(dir);
    edit(i.weight_map);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(i));
  };

  it('names a shard the index lists but the folder lacks', async () => {
    const dir = copy();
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    await expect(readHuggingFaceWeights(dir)).rejects.toThrow(new TxError(`${dir}/model.safetensors.index.json: shard "model-00002-of-00002.safetensors" is missing from ${dir}`));
  });

  it('refuses an index naming a file outside the folder, by spelling or by a symlink', async () => {
    const dir = copy();
    rewrite(dir, (map) => (map['model.norm.weight'] = '../outside.safetensors'));
    await expect(readHuggingFaceWeights(dir)).rejects.toThrow(`shard "../outside.safetensors" is outside the folder ${dir}`);
    const linked = copy();
    const elsewhere = mkdtempSync(join(tmpdir(), 'tx-elsewhere-'));
    cpSync(join(linked, 'model-00002-of-00002.safetensors'), join(elsewhere, 'w.safetensors'));
    rmSync(join(linked, 'model-00002-of-00002.safetensors'));
    symlinkSync(join(elsewhere, 'w.safetensors'), join(linked, 'model-00002-of-00002.safetensors'));
    await expect(readHuggingFaceWeights(linked)).rejects.toThrow('shard "model-00002-of-00002.safetensors" is outside the folder');
  });

  it('names a tensor that sits in a shard the index does not assign it to', async () => {
    const dir = copy();
    rewrite(dir, (map) => (map['model.norm.weight'] = map['model.norm.weight'] === 'model-00001-of-00002.safetensors' ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors'));
    await expect(readHuggingFaceWeights(dir)).rejects.toThrow('tensor "model.norm.weight" is not assigned to this shard');
    expect(readdirSync(dir)).toContain('model.safetensors.index.json');
  });
});

describe('loadModel on a Llama-family folder', () => {
  it('reads the shards and starts samples at bos_token_id; greedy tokens equal PyTorch', async () => {
    const { loadModel } = await import('./load-node.js');
    const reference = json(join(fixtures, 'reference.json')) as Record<string, { prompt_ids: number[]; generated: number[] }>;
    const loaded = await loadModel(join(fixtures, 'mistral'));
    if (loaded.kind !== 'llama') throw new Error(`expected a llama, got ${loaded.kind}`);
    expect(loaded.start).toEqual([1]); // <s>
    expect(loaded.defaults.eosId).toBe(2); // </s>
    expect(loaded.model.config.slidingWindow).toBe(5);
    const session = loaded.model.startSession();
    let next = reference.mistral.prompt_ids;
    const ids: number[] = [];
    for (let i = 0; i < 24; i++) {
      const { logits } = await session.feed(next);
      next = [logits.indexOf(Math.max(...logits))];
      ids.push(next[0]);
    }
    session.dispose();
    expect(ids).toEqual(reference.mistral.generated);
    loaded.model.dispose();
  });
});
