// tx under hostile files and flags, in-process through runCli: every case is
// one line on stderr and exit code 2, and nothing the user had is lost.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '@tx/core';
import { loadSafetensorsFile, saveSafetensorsFile } from '@tx/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const tx = (...argv: string[]) => runTx(argv);

/** Exit code 2 and exactly one line on stderr, matching `message`. */
function refused(r: { code: number; stderr: string }, message: string | RegExp): void {
  expect(r.stderr).toMatch(/^tx: [^\n]+\n$/);
  if (typeof message === 'string') expect(r.stderr).toBe(`tx: ${message}\n`);
  else expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
}

const tiny = ['--config', tinyConfig(), '--max-iters', '2', '--eval-interval', '2', '--backend', 'wasm', '--json'];

describe('--out never destroys what tx did not write', () => {
  it('refuses a file, a folder of other files, the --data corpus, and a path under a file; before any training', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    mkdirSync(join(dir, 'photos'));
    writeFileSync(join(dir, 'photos', 'a.jpg'), 'x');
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, 'to be or not to be, that is the question\n'.repeat(50));

    let r = await tx('train', '--out', join(dir, 'notes.txt'), ...tiny);
    refused(r, `--out ${join(dir, 'notes.txt')} already holds a file, not a tx checkpoint of the "names" task; choose another --out, or add --force to replace it`);
    expect(r.stdout).toBe(''); // refused before training
    refused(await tx('train', '--out', join(dir, 'photos'), ...tiny), `--out ${join(dir, 'photos')} already holds 1 file that tx did not write (a.jpg), not a tx checkpoint of the "names" task; choose another --out, or add --force to replace it`);
    refused(await tx('train', '--task', 'text', '--data', corpus, '--out', corpus, ...tiny), `--out ${corpus} is the --data ${corpus}: writing there would replace it; choose another --out`);
    refused(await tx('train', '--task', 'text', '--data', corpus, '--out', dir, ...tiny), `--out ${dir} holds the --data ${corpus}: writing there would delete it; choose another --out`);
    r = await tx('train', '--out', join(dir, 'notes.txt', 'run'), ...tiny);
    refused(r, `--out ${join(dir, 'notes.txt', 'run')}: ${join(dir, 'notes.txt')} is a file, not a folder`);
    expect(r.stdout).toBe('');

    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readdirSync(join(dir, 'photos'))).toEqual(['a.jpg']);
    expect(readFileSync(corpus, 'utf8')).toHaveLength(41 * 50);
  });

  it('replaces a checkpoint of the same task; another task, or --force, as asked', async () => {
    const dir = tmp();
    const out = join(dir, 'run');
    expect((await tx('train', '--out', out, ...tiny)).code).toBe(0);
    expect((await tx('train', '--out', out, ...tiny)).code).toBe(0);
    refused(await tx('train', '--task', 'copy', '--out', out, ...tiny), `--out ${out} already holds a tx checkpoint of the "names" task, not a tx checkpoint of the "copy" task; choose another --out, or add --force to replace it`);
    expect((await tx('train', '--task', 'copy', '--out', out, '--force', ...tiny)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).task).toBe('copy');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect((await tx('train', '--out', join(dir, 'notes.txt'), '--force', ...tiny)).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'run']);
  });
});

describe('checkpoints that do not fit', () => {
  const dir = tmp();
  const ckpt = join(dir, 'names');
  const config = () => JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
  /** A copy of the checkpoint with config.json edited. */
  const withConfig = (name: string, edit: (c: Record<string, any>) => void) => {
    const copy = join(dir, name);
    mkdirSync(copy);
    for (const f of ['model.safetensors', 'tokenizer.json']) writeFileSync(join(copy, f), readFileSync(join(ckpt, f)));
    const c = config();
    edit(c);
    writeFileSync(join(copy, 'config.json'), JSON.stringify(c));
    return copy;
  };

  beforeAll(async () => {
    expect((await tx('train', '--out', ckpt, ...tiny)).code).toBe(0);
  }, 120_000);

  it('tx export refuses to write over the checkpoint it reads, and never reads a bare D.old as D (out.test.ts reads a crashed save)', async () => {
    refused(await tx('export', '--checkpoint', ckpt, '--out', ckpt), `--out ${ckpt} is the --checkpoint ${ckpt}: writing there would replace it; choose another --out`);
    expect(config().format).toBe('tx-checkpoint');
    withConfig('crashed.old', () => {}); // a user's folder: tx never takes it for a copy of its own
    refused(await tx('export', '--checkpoint', join(dir, 'crashed'), '--out', join(dir, 'site')), `no checkpoint at ${join(dir, 'crashed')}: the folder does not exist`);
    expect(existsSync(join(dir, 'site'))).toBe(false);
  });

  it.each<[string, (c: Record<string, any>) => void, RegExp]>([
    ['no-model-config', (c) => delete c.model.config, /config\.json: model\.config must be an object$/m],
    ['no-settings', (c) => delete c.settings, /config\.json: settings must be an object$/m],
    ['zero-batch', (c) => (c.settings.batchSize = 0), /config\.json: settings\.batchSize must be an integer >= 1 and <= 65536, got 0$/m],
    ['huge-layers', (c) => (c.model.config.nLayer = 1e9), /config\.json: the model needs about [\d.,]+ TB \(.* for [\d,]+ parameters, .*\), more than the .* budget/],
    ['huge-vocab', (c) => (c.model.config.vocabSize = 1e9), /config\.json: the model needs about [\d.,]+ GB/],
    ['fractional-embd', (c) => (c.model.config.nEmbd = 64.5), /config\.json: model\.config is a bad GPTConfig: nEmbd must be a positive integer, got 64\.5/],
    ['bad-rng', (c) => (c.training.rngState = [0, 0, 0, 0]), /config\.json: training\.rngState must not be all zeros$/m],
  ])('%s: one line naming the file and field', async (name, edit, message) => {
    refused(await tx('sample', '--checkpoint', withConfig(name, edit), '--backend', 'wasm'), message);
  });

  it('damaged weights are named, even when the manifest says the folder is incomplete', async () => {
    const copy = withConfig('damaged', () => {});
    writeFileSync(join(copy, 'model.safetensors'), 'not a safetensors file');
    refused(await tx('sample', '--checkpoint', copy, '--backend', 'wasm'), /model\.safetensors: header length \d+ exceeds the 100000000-byte limit\n$/);
  });

  it('a tokenizer larger than the embedding is refused at load, naming both sizes', async () => {
    const copy = withConfig('big-tokenizer', () => {});
    writeFileSync(join(copy, 'tokenizer.json'), JSON.stringify({ kind: 'char', chars: 'abcdefghijklmnopqrstuvwxyz0123456789ABCD' }));
    refused(await tx('sample', '--checkpoint', copy, '--backend', 'wasm'), `${copy}/tokenizer.json: the tokenizer has 40 tokens but the model's embedding has 28 rows`);
  });

  it('hostile tokenizer files: a catastrophic split pattern is refused at load, malformed fields are named', async () => {
    const { BpeTokenizer } = await import('@tx/tokenizer');
    const bpe = BpeTokenizer.train('hello world hello there', { vocabSize: 260, pattern: 'gpt2' }).toJSON();
    const slow = withConfig('slow-pattern', () => {});
    writeFileSync(join(slow, 'tokenizer.json'), JSON.stringify({ ...bpe, pattern: '(a+)+$' }));
    refused(await tx('sample', '--checkpoint', slow, '--prompt', 'a'.repeat(60), '--backend', 'wasm'), /tokenizer\.json: .*pattern "\(a\+\)\+\$" is not a known split pattern .* nested quantifier at offset 1, which can take exponential time/);
    const merges = withConfig('merges', () => {});
    writeFileSync(join(merges, 'tokenizer.json'), JSON.stringify({ ...bpe, merges: 5 }));
    refused(await tx('sample', '--checkpoint', merges, '--backend', 'wasm'), `${merges}/tokenizer.json: merges: expected an array, found 5`);
  });

  it('NaN and infinite weights are refused, naming the tensor and the count', async () => {
    const copy = withConfig('nan', () => {});
    const { tensors } = await loadSafetensorsFile(join(copy, 'model.safetensors'));
    const name = 'transformer.h.0.attn.c_attn.weight';
    const values = tensors[name].dataSync().slice();
    values.fill(NaN, 0, 12);
    values.fill(Infinity, 12, 15);
    const poisoned = { ...tensors, [name]: tf.tensor(values, tensors[name].shape) };
    await saveSafetensorsFile(join(copy, 'model.safetensors'), poisoned);
    tf.dispose([...Object.values(tensors), poisoned[name]]);
    refused(await tx('sample', '--checkpoint', copy, '--backend', 'wasm'), `${copy}/model.safetensors: ${name} has 12 NaN values and 3 infinite values`);
  });

  it('resume into another folder writes it, says which flags it ignores, and takes --data for a moved corpus', async () => {
    const r = await tx('train', '--resume', ckpt, '--out', join(dir, 'resumed'), '--max-iters', '3', '--lr', '0.5', '--batch-size', '3', '--json');
    expect(r.stderr).toBe("tx: note: a resumed run keeps its checkpoint's settings; ignoring --batch-size, --lr\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'resumed', 'config.json'), 'utf8')).training.step).toBe(3);

    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, 'to be or not to be, that is the question\n'.repeat(50));
    const text = join(dir, 'text');
    expect((await tx('train', '--task', 'text', '--data', corpus, '--out', text, ...tiny)).code).toBe(0);
    const moved = join(dir, 'moved.txt');
    writeFileSync(moved, readFileSync(corpus));
    rmSync(corpus); // the corpus moved
    refused(await tx('train', '--resume', text, '--max-iters', '4', '--json'), `--resume ${text}: its corpus ${corpus} cannot be read (ENOENT); give its new path with --data`);
    const again = await tx('train', '--resume', text, '--max-iters', '4', '--data', moved, '--json');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(text, 'config.json'), 'utf8')).training.step).toBe(4);
  });
});

describe('sizes are checked before allocation', () => {
  it('a batch or model that cannot fit is one line with both numbers', async () => {
    const dir = tmp();
    refused(await tx('train', '--batch-size', '65536', '--out', join(dir, 'a'), '--backend', 'wasm'), /^tx: training this model needs about [\d.]+ GB \(2\.3 MB for 150,720 parameters with gradients and AdamW moments, [\d.]+ GB of activations at batch 65536\), more than the 3\.6 GB budget \(90% of wasm's 4 GB heap\); use a smaller model or batch, or set TX_MEMORY_BUDGET\n$/);
    refused(await tx('import', 'nanogpt', '--weights', join(dir, 'w.safetensors'), '--model-args', JSON.stringify({ n_layer: 1e9, n_head: 4, n_embd: 128, block_size: 64, bias: false, vocab_size: 3 }), '--vocab', 'abc', '--out', join(dir, 'b'), '--backend', 'wasm'), /^tx: --model-args: the model needs about [\d,.]+ TB/);
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });

  it('negative numbers are values: the flag says its range', async () => {
    refused(await tx('train', '--seed', '-1'), '--seed must be an integer >= 0 and <= 4294967295, got "-1"');
    refused(await tx('sample', '--checkpoint', 'x', '--temperature', '-0.5'), '--temperature must be a positive number, got "-0.5"');
  });
});

describe('a full disk', () => {
  // A real full disk: a 3 MB tmpfs holds one names checkpoint (about 1.8 MB) but not a second beside it.
  const disk = tmp('tx-full-');
  let mounted = false;
  beforeAll(() => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false; // not root: CI runs as root, so CI runs this test
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [disk]);
  });

  it('ENOSPC is one line naming the file; the previous checkpoint stays whole and no temp folder is left', async ({ skip }) => {
    if (!mounted) skip('mounting a tmpfs needs root');
    const out = join(disk, 'names');
    const names = ['--max-iters', '2', '--eval-interval', '2', '--backend', 'wasm', '--json']; // the task's own model
    expect((await tx('train', '--out', out, ...names)).code).toBe(0);
    const before = readFileSync(join(out, 'model.safetensors'));
    const r = await tx('train', '--out', out, '--seed', '7', ...names);
    refused(r, new RegExp(`^tx: ${out}/(model|optimizer)\\.safetensors: cannot write it \\(ENOSPC: no space left on device\\); ${out} was left as it was\\n$`));
    expect(readFileSync(join(out, 'model.safetensors'))).toEqual(before);
    expect(readdirSync(disk)).toEqual(['names']);
  });
});
