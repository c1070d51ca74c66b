// Loading model folders as the page does, in Node on the cpu backend: the
// Hugging Face fixture (tooling/fixtures/hf_gpt2.py: PyTorch's logits are the
// reference) picked as files or served at a URL, with the progress seen and
// the backend's budget checked before the weights are read.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GPT } from '@tx/blocks';
import { initBackend, tf } from '@tx/core';
import type { Progress } from '../lib/progress.js';
import { loadFolder, nameOf, pickedFolder, urlFolder } from './folder.js';
import { inspect } from './run.js';

const FIXTURE = fileURLToPath(new URL('../../../../packages/blocks/test/fixtures/hf-gpt2/', import.meta.url));
const reference = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as { prompt: string; prompt_ids: number[]; logits: number[]; f16_logits: number[] };
const files = (dir: string) => readdirSync(join(FIXTURE, dir)).map((name) => new File([readFileSync(join(FIXTURE, dir, name))], name));
const size = (dir: string, name: string) => readFileSync(join(FIXTURE, dir, name)).length;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

/** The largest difference between the model's logits on the prompt and PyTorch's. */
async function logitsError(model: GPT, expected: number[]): Promise<number> {
  const ids = tf.tensor2d([reference.prompt_ids], undefined, 'int32');
  const logits = model.forward(ids).logits;
  const got = await logits.data();
  tf.dispose([ids, logits]);
  return Math.max(...expected.map((x, i) => Math.abs(x - got[i])));
}

describe('a Hugging Face GPT-2 folder', () => {
  it('loads from picked files (tokenizer.json, F32), with the logits of PyTorch, every byte counted', async () => {
    let last: Progress | null = null;
    const m = await loadFolder(pickedFolder(files('f32')), { onProgress: (p) => { last = p; } });
    expect([m.kind, m.name]).toEqual(['gpt', 'picked model']);
    const model = m.model as GPT;
    expect(model.config).toMatchObject({ nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 64, vocabSize: 297, activation: 'gelu_tanh' });
    expect(m.tokenizer.encode(reference.prompt)).toEqual(reference.prompt_ids);
    expect(await logitsError(model, reference.logits)).toBeLessThan(1e-4);
    const bytes = size('f32', 'config.json') + size('f32', 'tokenizer.json') + size('f32', 'model.safetensors');
    expect([last!.loaded, last!.total, last!.fraction()]).toEqual([bytes, bytes, 1]);
    model.dispose();
  });

  it('loads F16 weights with vocab.json + merges.txt', async () => {
    const m = await loadFolder(pickedFolder(files('f16')), { name: 'f16' });
    expect(m.tokenizer.encode(reference.prompt)).toEqual(reference.prompt_ids);
    expect(await logitsError(m.model as GPT, reference.f16_logits)).toBeLessThan(1e-4);
    m.model.dispose();
  });

  it('is refused before its weights are read when the backend cannot hold it, leaving no tensor', async () => {
    const before = tf.memory().numTensors;
    const read: string[] = [];
    const load = loadFolder(pickedFolder(files('f32')), {
      onProgress: (p) => read.push(p.label()),
      check: (spec) => { throw new Error(`no room for ${spec.config.nLayer} layers`); },
    });
    await expect(load).rejects.toThrow('no room for 2 layers');
    expect(read.at(-1)).toBe(`done: ${size('f32', 'config.json')} B of ${size('f32', 'config.json')} B (100%)`); // config.json only
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says which file is missing or broken, in one line, leaving no tensor', async () => {
    const before = tf.memory().numTensors;
    const f32 = files('f32');
    await expect(loadFolder(pickedFolder(f32.filter((f) => f.name !== 'tokenizer.json')))).rejects.toThrow('the picked files: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt (found config.json, model.safetensors)');
    await expect(loadFolder(pickedFolder(f32.filter((f) => f.name !== 'config.json')))).rejects.toThrow("missing config.json: pick it with the model's other files (picked: model.safetensors, tokenizer.json)");
    const truncated = f32.map((f) => (f.name === 'model.safetensors' ? new File([readFileSync(join(FIXTURE, 'f32', f.name)).subarray(0, 100_000)], f.name) : f));
    await expect(loadFolder(pickedFolder(truncated))).rejects.toThrow(/^the picked files\/model\.safetensors: /);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads from a URL: the files there are asked for, then streamed', async () => {
    const asked: string[] = [];
    const server: typeof fetch = async (input, init) => {
      const { pathname } = new URL(String(input));
      const name = pathname.replace('/tx/hf-tiny/resolve/main/', '');
      asked.push(`${init?.method ?? 'GET'} ${name}`);
      let body: Uint8Array<ArrayBuffer>;
      try {
        body = new Uint8Array(readFileSync(join(FIXTURE, 'f16', name)));
      } catch {
        return new Response('not found', { status: 404 });
      }
      return new Response(init?.method === 'HEAD' ? null : body, { headers: { 'content-length': String(body.length) } });
    };
    const m = await loadFolder(urlFolder('https://huggingface.co/tx/hf-tiny/resolve/main/', server));
    expect(m.name).toBe('hf-tiny');
    expect(asked.filter((a) => a.startsWith('GET')).sort()).toEqual(['GET config.json', 'GET merges.txt', 'GET model.safetensors', 'GET vocab.json']);
    expect(asked.filter((a) => a.startsWith('HEAD'))).toEqual(['HEAD model.safetensors', 'HEAD tokenizer.json', 'HEAD vocab.json', 'HEAD merges.txt']); // no tokenizer.json in f16/
    m.model.dispose();
    await expect(loadFolder(urlFolder('https://example.org/nothing', server))).rejects.toThrow('https://example.org/nothing/config.json: HTTP 404');
  });

  it("names the model from config.json's _name_or_path or the URL", () => {
    expect(nameOf({ _name_or_path: 'distilgpt2' }, 'the picked files')).toBe('distilgpt2');
    expect(nameOf({}, 'https://huggingface.co/openai-community/gpt2/resolve/main')).toBe('gpt2');
    expect(nameOf({}, 'http://127.0.0.1:8080/hf-1024')).toBe('hf-1024');
    expect(nameOf({}, 'http://127.0.0.1:8080')).toBe('127.0.0.1:8080'); // a URL is never the "picked model"
    expect(nameOf({}, 'the picked files')).toBe('picked model');
  });
});

// The Llama-family fixtures (tooling/fixtures/hf_llama.py): BF16 weights in two shards plus an index, PyTorch's logits for reference.
const LLAMA = fileURLToPath(new URL('../../../../packages/blocks/test/fixtures/hf-llama/', import.meta.url));
const llamaReference = JSON.parse(readFileSync(join(LLAMA, 'reference.json'), 'utf8')) as Record<string, { prompt_ids: number[]; logits: number[][] }>;
const llamaFiles = (arch: string, skip: string[] = []) => readdirSync(join(LLAMA, arch)).filter((n) => !skip.includes(n)).map((name) => new File([readFileSync(join(LLAMA, arch, name))], name));

describe('a Hugging Face Llama-family folder', () => {
  it.each(['llama', 'mistral', 'qwen2'])('%s: loads its two shards from picked files, with the logits of PyTorch, the check asked before any shard is read', async (arch) => {
    const ref = llamaReference[arch];
    const started: string[] = [];
    let checked: string[] | null = null;
    let last: Progress | null = null;
    const m = await loadFolder(pickedFolder(llamaFiles(arch)), {
      onProgress: (p) => { last = p; const label = p.label(); if (!started.includes(label)) started.push(label); },
      check: (spec) => { checked = [spec.kind, String(spec.config.nLayer), String((spec.config as { nKvHead?: number }).nKvHead)]; expect(started.some((l) => l.includes('model-0000'))).toBe(false); },
    });
    if (m.kind !== 'llama') throw new Error(`expected a Llama, got ${m.kind}`);
    expect(checked).toEqual(['llama', '2', { llama: '2', mistral: '1', qwen2: '2' }[arch]]); // config.json's num_key_value_heads
    const ids = tf.tensor2d([ref.prompt_ids], undefined, 'int32');
    const { logits } = m.model.forward(ids);
    const T = ref.prompt_ids.length;
    const got = (await tf.slice(logits, [0, T - 2, 0], [1, 2, -1]).array()) as number[][][];
    const diff = Math.max(...ref.logits.flatMap((row, i) => row.map((x, j) => Math.abs(x - got[0][i][j]))));
    expect(diff).toBeLessThan(1e-4);
    const bytes = readdirSync(join(LLAMA, arch)).reduce((sum, n) => sum + readFileSync(join(LLAMA, arch, n)).length, 0);
    expect([last!.loaded, last!.fraction()]).toEqual([bytes, 1]); // config, index, both shards and tokenizer.json
    tf.dispose([ids, logits]);
    // The attention view's reading: byte tokens grouped into their character, and which KV head each query head shares.
    const r = await inspect(m.model, m.tokenizer, 'The € ok');
    expect(r.kvHeads).toEqual({ llama: [0, 0, 1, 1], mistral: [0, 0, 0, 0], qwen2: [0, 0, 1, 1] }[arch]);
    expect(r.tokens.filter((t) => t.startsWith('€'))).toEqual(['€ 1/3', '€ 2/3', '€ 3/3']);
    expect(r.window).toBe(arch === 'mistral' ? 5 : undefined); // config.json's sliding_window, for the arithmetic view's mask
    expect([r.attention[0].length, r.k[0].length, r.v[0].length]).toEqual([4, 4, 4]);
    // Query head 1's softmax(q·k/√d) over the first 3 keys, by hand from the Q and K read back, is its attention row.
    const d = r.q[0][1][0].length, row = 2;
    const scores = [0, 1, 2].map((j) => r.q[0][1][row].reduce((s, x, c) => s + x * r.k[0][1][j][c], 0) / Math.sqrt(d));
    const z = scores.map((x) => Math.exp(x - Math.max(...scores)));
    const sum = z.reduce((a, b) => a + b, 0);
    z.forEach((x, j) => expect(Math.abs(x / sum - r.attention[0][1][row][j])).toBeLessThan(1e-5));
    m.model.dispose();
  });

  it('names a shard missing from the folder, or one outside it, in one line, reading no shard', async () => {
    const before = tf.memory().numTensors;
    await expect(loadFolder(pickedFolder(llamaFiles('llama', ['model-00002-of-00002.safetensors'])))).rejects.toThrow(
      'the picked files/model.safetensors.index.json: shard "model-00002-of-00002.safetensors" is missing: pick it with the model\'s other files');
    const index = JSON.parse(readFileSync(join(LLAMA, 'llama', 'model.safetensors.index.json'), 'utf8'));
    index.weight_map['model.norm.weight'] = '../model-00002-of-00002.safetensors';
    const hostile = [...llamaFiles('llama', ['model.safetensors.index.json']), new File([JSON.stringify(index)], 'model.safetensors.index.json')];
    await expect(loadFolder(pickedFolder(hostile))).rejects.toThrow('the picked files/model.safetensors.index.json: shard "../model-00002-of-00002.safetensors" is outside the folder; an index names files beside it');
    expect(tf.memory().numTensors).toBe(before);
  });
});
