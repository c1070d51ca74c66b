// tx import hf / tx export --format hf|nanogpt on a small GPT-2 in exactly
// Hugging Face's layout (tooling/fixtures/hf_gpt2.py): F32, F16 and the
// original upload's layout (no "transformer." prefix, mask buffers, lm_head),
// tokenizer.json or vocab.json + merges.txt, model.safetensors or its shards. PyTorch's logits and greedy
// tokens are the reference; round trips give byte-identical tensors.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '@tx/core';
import { maxAbsDifference, readFixture } from '@tx/core/testing';
import { describe, expect, it } from 'vitest';
import { runTx, tmp } from '../test/run-tx.js';

const fixtures = join(import.meta.dirname, '../../../packages/blocks/test/fixtures');
const hf = join(fixtures, 'hf-gpt2');
const ref = readFixture<{ prompt: string; prompt_ids: number[]; logits: number[]; f16_logits: number[]; generated: number[]; f16_generated: number[]; vocab_size: number }>(new URL(`file://${hf}/reference.json`));
const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('tx import hf', () => {
  it.each([
    ['f32', 'tokenizer.json', ref.logits, ref.generated],
    ['legacy', 'no prefix, mask buffers, lm_head', ref.logits, ref.generated],
    ['f16', 'vocab.json + merges.txt', ref.f16_logits, ref.f16_generated],
  ])('%s (%s): logits and 30 greedy tokens equal PyTorch', async (variant, _, logits, generated) => {
    const out = join(tmp(), 'ckpt');
    const imported = await runTx(['import', 'hf', '--dir', join(hf, variant), '--out', out, '--backend', 'wasm']);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/^imported [\d,]+ parameters from .* into /);
    const inspected = json((await runTx(['inspect', '--checkpoint', out, '--text', ref.prompt, '--json', '--backend', 'cpu'])).stdout);
    expect(inspected.ids).toEqual(ref.prompt_ids); // the tokenizer, from either file
    expect(maxAbsDifference(inspected.logits.flat(), logits)).toBeLessThan(1e-4);
    const sampled = json((await runTx(['sample', '--checkpoint', out, '--prompt', ref.prompt, '--greedy', '--max-new-tokens', '30', '--json', '--backend', 'cpu'])).stdout);
    expect(sampled.ids).toEqual(generated);
  });

  it('round trips: hf -> tx -> hf, and nanoGPT -> tx -> nanoGPT, give byte-identical tensors', async () => {
    const dir = tmp();
    await runTx(['import', 'hf', '--dir', join(hf, 'f32'), '--out', join(dir, 'ckpt'), '--backend', 'cpu']);
    const exported = await runTx(['export', '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'hf'), '--format', 'hf', '--backend', 'cpu']);
    expect(exported.stdout).toBe(`exported ${join(dir, 'ckpt')} to ${join(dir, 'hf')} (config.json, model.safetensors, tx-tokenizer.json)\n`);
    const tensors = (path: string) => parseSafetensors(readFileSync(path)).tensors;
    const [a, b] = [tensors(join(hf, 'f32', 'model.safetensors')), tensors(join(dir, 'hf', 'model.safetensors'))];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) expect(Buffer.from(b[name].data.buffer).equals(Buffer.from(a[name].data.buffer)), name).toBe(true);
    const config = JSON.parse(readFileSync(join(dir, 'hf', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: 2, n_embd: 64, vocab_size: ref.vocab_size, activation_function: 'gelu_new' });
    // The exported folder imports again (tx-tokenizer.json) to the same model.
    await runTx(['import', 'hf', '--dir', join(dir, 'hf'), '--out', join(dir, 'again'), '--backend', 'cpu']);
    expect(readFileSync(join(dir, 'again', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'ckpt', 'model.safetensors')));

    const nano = join(fixtures, 'gpt_nobias');
    const args = JSON.stringify(JSON.parse(readFileSync(`${nano}.json`, 'utf8')).model_args);
    await runTx(['import', 'nanogpt', '--weights', `${nano}.safetensors`, '--model-args', args, '--vocab', 'abcdefghijklmnopqrst', '--out', join(dir, 'nano'), '--backend', 'cpu']);
    expect((await runTx(['export', '--checkpoint', join(dir, 'nano'), '--out', join(dir, 'nano-out'), '--format', 'nanogpt'])).code).toBe(0);
    const [n1, n2] = [tensors(`${nano}.safetensors`), tensors(join(dir, 'nano-out', 'model.safetensors'))];
    // Every parameter comes back bit for bit; nanoGPT's causal-mask buffers (attn.bias, not parameters) are not written.
    expect(Object.keys(n1).filter((name) => !(name in n2))).toEqual(['transformer.h.0.attn.bias', 'transformer.h.1.attn.bias']);
    for (const name of Object.keys(n2)) expect(Buffer.from(n2[name].data.buffer).equals(Buffer.from(n1[name].data.buffer)), name).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'nano-out', 'model_args.json'), 'utf8'))).toEqual(JSON.parse(args));
  });

  it('what it cannot import is one line naming it', async () => {
    const dir = tmp();
    const bad = (name: string, config: Record<string, unknown>, copyWeights = true) => {
      const d = join(dir, name);
      mkdirSync(d);
      writeFileSync(join(d, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(hf, 'f32', 'config.json'), 'utf8')), ...config }));
      copyFileSync(join(hf, 'f32', 'tokenizer.json'), join(d, 'tokenizer.json'));
      if (copyWeights) copyFileSync(join(hf, 'f32', 'model.safetensors'), join(d, 'model.safetensors'));
      return d;
    };
    const refused = async (args: string[], message: string | RegExp) => {
      const r = await runTx(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(typeof message === 'string' ? new RegExp(`^tx: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`) : message);
    };
    const bert = bad('bert', { model_type: 'bert', architectures: ['BertForMaskedLM'] }); // Llama-family folders: huggingface-llama.test.ts
    await refused(['import', 'hf', '--dir', bert, '--out', join(dir, 'o1')], `${bert}/config.json: unsupported architecture "BertForMaskedLM" (model_type "bert"): tx imports GPT-2 (model_type "gpt2")`);
    const act = bad('act', { activation_function: 'swish' });
    await refused(['import', 'hf', '--dir', act, '--out', join(dir, 'o2')], `${act}/config.json: activation_function "swish" is not supported (gelu_new, gelu, relu)`);
    const bigger = bad('bigger', { n_layer: 3 });
    await refused(['import', 'hf', '--dir', bigger, '--out', join(dir, 'o3'), '--backend', 'cpu'], /^tx: .*bigger\/model\.safetensors: state dict does not fit GPT: missing tensor "transformer\.h\.2\.ln_1\.weight"/);
    await refused(['import', 'nanogpt', '--weights', 'w', '--model-args', '{"n_layer": ', '--vocab', 'ab', '--out', join(dir, 'o0')], /^tx: --model-args: not valid JSON \(.+\)\n$/);
    const noWeights = bad('noweights', {}, false);
    await refused(['import', 'hf', '--dir', noWeights, '--out', join(dir, 'o4'), '--backend', 'cpu'], `${noWeights}: no weights: expected model.safetensors, or model.safetensors.index.json and its shards (tx reads safetensors, not pytorch_model.bin)`);
  });

  it('a sharded folder (model.safetensors.index.json and 2 shards) imports to the same weights and logits as model.safetensors', async () => {
    const dir = tmp();
    const sharded = join(dir, 'sharded');
    mkdirSync(sharded);
    for (const name of ['config.json', 'tokenizer.json']) copyFileSync(join(hf, 'f32', name), join(sharded, name));
    const weightMap = writeShards(join(hf, 'f32', 'model.safetensors'), sharded, 2);
    expect(new Set(Object.values(weightMap)).size).toBe(2);
    for (const [source, out] of [[join(hf, 'f32'), join(dir, 'whole')], [sharded, join(dir, 'from-shards')]]) {
      const imported = await runTx(['import', 'hf', '--dir', source, '--out', out, '--backend', 'cpu']);
      expect([imported.code, imported.stderr]).toEqual([0, '']);
    }
    expect(readFileSync(join(dir, 'from-shards', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'whole', 'model.safetensors')));
    const logits = async (ck: string) => json((await runTx(['inspect', '--checkpoint', ck, '--text', ref.prompt, '--json', '--backend', 'cpu'])).stdout).logits;
    const fromShards = await logits(join(dir, 'from-shards'));
    expect(fromShards).toEqual(await logits(join(dir, 'whole')));
    expect(maxAbsDifference(fromShards.flat(), ref.logits)).toBeLessThan(1e-4);

    // The shards are checked as a Llama's are (huggingface-llama.test.ts): an index naming a file out of the folder is one line.
    const index = join(sharded, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, 'transformer.ln_f.weight': '../model.safetensors' } }));
    const r = await runTx(['import', 'hf', '--dir', sharded, '--out', join(dir, 'o5'), '--backend', 'cpu']);
    expect([r.code, r.stderr]).toEqual([2, `tx: ${index}: shard "../model.safetensors" is outside the folder ${sharded}; an index names files beside it\n`]);
  });
});

/**
 * Split safetensors file `path` into `n` shards in folder `dir`, as save_pretrained
 * does past max_shard_size (model-0000i-of-0000n.safetensors, the same bytes per
 * tensor, each file with its own offsets), and write model.safetensors.index.json.
 */
function writeShards(path: string, dir: string, n: number): Record<string, string> {
  const file = readFileSync(path);
  const length = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + length).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((name) => name !== '__metadata__');
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const shard = `model-0000${i + 1}-of-0000${n}.safetensors`;
    const own = names.slice(Math.floor((i * names.length) / n), Math.floor(((i + 1) * names.length) / n));
    const out: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const name of own) {
      const { dtype, shape, data_offsets: [begin, end] } = header[name];
      chunks.push(file.subarray(8 + length + begin, 8 + length + end));
      out[name] = { dtype, shape, data_offsets: [offset, offset + end - begin] };
      offset += end - begin;
      weightMap[name] = shard;
    }
    const json = Buffer.from(JSON.stringify(out));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(dir, shard), Buffer.concat([size, json, ...chunks]));
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: file.length - 8 - length }, weight_map: weightMap }));
  return weightMap;
}
