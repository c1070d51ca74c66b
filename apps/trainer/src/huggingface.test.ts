// tx import hf / tx export --format hf|nanogpt on a small GPT-2 in exactly
// Hugging Face's layout (tooling/fixtures/hf_gpt2.py): F32, F16 and the
// original upload's layout (no "transformer." prefix, mask buffers, lm_head),
// tokenizer.json or vocab.json + merges.txt. PyTorch's logits and greedy
// tokens are the reference; round trips give byte-identical tensors.
import { readFileSync } from 'node:fs';
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
    const { writeFileSync, mkdirSync, copyFileSync } = await import('node:fs');
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
    const noWeights = bad('noweights', {}, false);
    await refused(['import', 'hf', '--dir', noWeights, '--out', join(dir, 'o4'), '--backend', 'cpu'], `${noWeights}: model.safetensors is missing (tx reads Hugging Face's safetensors weights, not pytorch_model.bin)`);
  });
});
