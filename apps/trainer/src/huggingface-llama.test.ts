// tx import hf / inspect / sample / eval / export / train --resume on tiny
// Llama, Mistral and Qwen2 models in exactly Hugging Face's layout
// (tooling/fixtures/hf_llama.py: BF16 weights in two shards and an index, and
// tokenizer.json files written by Hugging Face's tokenizers: Llama 2's
// sentencepiece style with byte fallback, the same as a normalizer, Qwen2's
// byte-level BPE).
// PyTorch's logits, attention probabilities and greedy tokens are the
// reference; hf -> tx -> hf gives the same bytes; hostile folders are one line
// and exit 2.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { llamaMini, llamaParameters } from '@tx/blocks';
import { maxAbsDifference } from '@tx/core/testing';
import { describe, expect, it } from 'vitest';
import { runTx, tmp } from '../test/run-tx.js';

const fixtures = join(import.meta.dirname, '../../../packages/blocks/test/fixtures/hf-llama');
const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as Record<string, { prompt: string; prompt_ids: number[]; logits: number[][]; attention: number[][][][]; generated: number[] }>;
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'];

describe.each(['llama', 'mistral', 'qwen2'])('tx and a %s folder', (arch) => {
  it('imports it; inspect and sample equal PyTorch; export gives the same shards back', async () => {
    const ref = reference[arch];
    const dir = tmp();
    const imported = await runTx(['import', 'hf', '--dir', join(fixtures, arch), '--out', join(dir, 'ckpt'), '--backend', 'wasm']);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/^imported [\d,]+ parameters from .* into /);
    const inspected = last((await runTx(['inspect', '--checkpoint', join(dir, 'ckpt'), '--text', ref.prompt, '--json', '--backend', 'wasm'])).stdout);
    expect(inspected.ids).toEqual(ref.prompt_ids); // Hugging Face's tokenizers' ids, <s> included for Llama 2's style
    expect(maxAbsDifference(inspected.logits.slice(-2).flat(), ref.logits.flat())).toBeLessThan(1e-4); // the fixture keeps the last two rows
    // One attention map per query head (inspect rounds to 1e-6); kvHeads says which KV head each one reads.
    expect(maxAbsDifference(inspected.attention.flat(3), ref.attention.flat(3))).toBeLessThan(2e-6);
    expect(inspected.kvHeads).toEqual({ llama: [0, 0, 1, 1], mistral: [0, 0, 0, 0], qwen2: [0, 0, 1, 1] }[arch]);
    const sampled = last((await runTx(['sample', '--checkpoint', join(dir, 'ckpt'), '--prompt', ref.prompt, '--greedy', '--max-new-tokens', '24', '--json', '--backend', 'wasm'])).stdout);
    expect(sampled.ids).toEqual(ref.generated);

    const exported = await runTx(['export', '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'hf'), '--format', 'hf', '--backend', 'cpu']);
    expect(exported.stdout).toBe(`exported ${join(dir, 'ckpt')} to ${join(dir, 'hf')} (config.json, ${SHARDS.join(', ')}, tx-tokenizer.json)\n`);
    for (const file of SHARDS) expect(readFileSync(join(dir, 'hf', file)).equals(readFileSync(join(fixtures, arch, file))), file).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'hf', 'config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(fixtures, arch, 'config.json'), 'utf8')));
  }, 120_000);
});

describe('tx and Llama-family checkpoints', () => {
  it('evaluates a text and fine-tunes with --resume, the loss going down', async () => {
    const dir = tmp();
    await runTx(['import', 'hf', '--dir', join(fixtures, 'llama'), '--out', join(dir, 'ckpt'), '--backend', 'cpu']);
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'The fox is quick. The fox is brown. '.repeat(60));
    const before = last((await runTx(['eval', '--checkpoint', join(dir, 'ckpt'), '--data', text, '--json', '--backend', 'cpu'])).stdout);
    expect(before.loss).toBeGreaterThan(0);
    expect(before.perplexity).toBeCloseTo(Math.exp(before.loss), 6);
    const tuned = await runTx(['train', '--resume', join(dir, 'ckpt'), '--data', text, '--max-iters', '20', '--eval-interval', '20', '--out', join(dir, 'tuned'), '--backend', 'wasm', '--json']);
    expect(tuned.stderr).toBe('');
    expect(tuned.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'tuned', 'config.json'), 'utf8'));
    expect(config.model.kind).toBe('llama');
    expect(config.training.step).toBe(20);
    const after = last((await runTx(['eval', '--checkpoint', join(dir, 'tuned'), '--data', text, '--json', '--backend', 'cpu'])).stdout);
    expect(after.loss).toBeLessThan(before.loss);
  }, 300_000);

  it('trains llama-mini from scratch (--preset llama-mini): 20 steps lower the loss', async () => {
    const dir = tmp();
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n'.repeat(40));
    // (Flat tensors per step: @tx/train's llama-step.test.ts.)
    const r = await runTx(['train', '--task', 'text', '--preset', 'llama-mini', '--data', text, '--max-iters', '20', '--eval-interval', '20', '--out', join(dir, 'run'), '--backend', 'wasm', '--json']);
    expect(r.stderr).toBe('');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const start = events.find((e) => e.event === 'start');
    expect(start.parameters).toBe(llamaParameters({ ...llamaMini, vocabSize: start.vocabSize }));
    const steps = events.filter((e) => e.event === 'step');
    expect(steps).toHaveLength(20);
    expect(steps[19].loss).toBeLessThan(steps[0].loss - 0.5);
    const config = JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8'));
    expect(config.model).toEqual({ kind: 'llama', config: { ...llamaMini, vocabSize: start.vocabSize } });
    expect(config.settings.model).toBe('llama');
  }, 300_000);

  it('refuses hostile folders in one line with exit 2', async () => {
    const dir = tmp();
    const variant = (name: string, edit: (folder: string) => void) => {
      const folder = join(dir, name);
      cpSync(join(fixtures, 'llama'), folder, { recursive: true });
      edit(folder);
      return folder;
    };
    const editJson = (path: string, edit: (o: Record<string, unknown>) => void) => {
      const o = JSON.parse(readFileSync(path, 'utf8'));
      edit(o);
      writeFileSync(path, JSON.stringify(o));
    };
    const refused = async (folder: string, message: string) => {
      const r = await runTx(['import', 'hf', '--dir', folder, '--out', join(dir, `out-${folder.split('/').at(-1)}`), '--backend', 'cpu']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`tx: ${message}\n`);
    };
    const missing = variant('missing', (f) => rmSync(join(f, 'model-00002-of-00002.safetensors')));
    await refused(missing, `${missing}/model.safetensors.index.json: shard "model-00002-of-00002.safetensors" is missing from ${missing}`);
    const outside = variant('outside', (f) => editJson(join(f, 'model.safetensors.index.json'), (o) => ((o.weight_map as Record<string, string>)['model.norm.weight'] = '../../../etc/passwd')));
    await refused(outside, `${outside}/model.safetensors.index.json: shard "../../../etc/passwd" is outside the folder ${outside}; an index names files beside it`);
    const heads = variant('heads', (f) => editJson(join(f, 'config.json'), (o) => (o.num_key_value_heads = 3)));
    await refused(heads, `${heads}/config.json: num_attention_heads (4) is not divisible by num_key_value_heads (3): each KV head must serve the same number of query heads`);
    const headDim = variant('headdim', (f) => editJson(join(f, 'config.json'), (o) => (o.head_dim = 16)));
    const r = await runTx(['import', 'hf', '--dir', headDim, '--out', join(dir, 'out-hd'), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^tx: ${headDim}: the weights do not fit config.json: state dict does not fit Llama: tensor "model.layers.0.self_attn.q_proj.weight": expected shape \\[64, 32\\], found \\[32, 32\\];[^\\n]*\\n$`));
    // Memory is checked from config.json before any weight is read (these folders have none):
    // Qwen2.5-7B's size is refused in one line; SmolLM2-135M's passes the check (at 1,024 tokens) and finds no weights.
    const sized = (name: string, fields: Record<string, unknown>) => {
      const folder = join(dir, name);
      cpSync(join(fixtures, 'qwen2'), folder, { recursive: true });
      for (const f of SHARDS) rmSync(join(folder, f));
      editJson(join(folder, 'config.json'), (o) => Object.assign(o, fields));
      return folder;
    };
    const big = sized('qwen7b', { vocab_size: 152064, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, max_position_embeddings: 32768, tie_word_embeddings: false });
    process.env.TX_MEMORY_BUDGET = '3.6GB'; // wasm's budget (90% of its 4 GB heap), whatever this machine has free
    const refusal = await runTx(['import', 'hf', '--dir', big, '--out', join(dir, 'out-7b'), '--backend', 'wasm']);
    expect(refusal.code).toBe(2);
    expect(refusal.stderr).toMatch(new RegExp(`^tx: ${big}/config.json: the model needs about [\\d.]+ GB \\([\\d.]+ GB for [\\d,]+ parameters, .*budget.*\\n$`));
    const smol = sized('smollm2', { model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192, rope_theta: 100000, tie_word_embeddings: true });
    await refused(smol, `${smol}: no weights: expected model.safetensors, or model.safetensors.index.json and its shards (tx reads safetensors, not pytorch_model.bin)`);
    delete process.env.TX_MEMORY_BUDGET;
    const scaling = variant('scaling', (f) => editJson(join(f, 'config.json'), (o) => (o.rope_scaling = { rope_type: 'llama3', factor: 8 })));
    await refused(scaling, `${scaling}/config.json: rope_scaling "llama3" is not implemented: tx's RoPE is the plain rotation (rope_scaling null); this model would be silently wrong past its original context`);
  }, 120_000);
});
