// Bounds before work (issue 29): thread counts, special files and sizes are
// checked before anything is read or started, each in one line naming the
// flag or path. Real FIFOs (mkfifo, with no writer: a blocking open would hang
// the test), real links to /dev/zero and /dev/urandom, and sparse files made
// with truncate (400 MB that take no disk).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';
import { corpusLimit } from './budget.js';

const hf = join(import.meta.dirname, '../../../packages/blocks/test/fixtures/hf-gpt2/f32');
const cli = join(import.meta.dirname, '../dist/cli.js');
const tx = (...argv: string[]) => runTx(argv);

/** Exit code 2 and exactly one line on stderr: `tx: ${message}`. */
function refused(r: { code: number; stderr: string }, message: string): void {
  expect(r.stderr).toBe(`tx: ${message}\n`);
  expect(r.code).toBe(2);
}

/** A copy of the small Hugging Face GPT-2 folder (config.json, model.safetensors, tokenizer.json). */
function hfCopy(): string {
  const dir = join(tmp(), 'hf');
  mkdirSync(dir);
  for (const name of readdirSync(hf)) copyFileSync(join(hf, name), join(dir, name));
  return dir;
}

/** Rewrite a safetensors file with one tensor changed (offsets recomputed). */
function rewriteTensor(path: string, name: string, dtype: string, bytes: Uint8Array): void {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + n).toString());
  const data = file.subarray(8 + n);
  const out: Record<string, unknown> = { __metadata__: header.__metadata__ };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, info] of Object.entries(header) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
    if (key === '__metadata__') continue;
    const chunk = key === name ? bytes : data.subarray(info.data_offsets[0], info.data_offsets[1]);
    out[key] = { dtype: key === name ? dtype : info.dtype, shape: info.shape, data_offsets: [offset, offset + chunk.length] };
    chunks.push(chunk);
    offset += chunk.length;
  }
  const json = Buffer.from(JSON.stringify(out));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, ...chunks]));
}

describe('threads', () => {
  let checkpoint: string;
  const saved = process.env.TX_THREADS;
  beforeAll(async () => {
    checkpoint = join(tmp(), 'ck');
    expect((await tx('import', 'hf', '--dir', hf, '--out', checkpoint, '--backend', 'cpu')).code).toBe(0);
  }, 120_000);
  afterEach(() => {
    if (saved === undefined) delete process.env.TX_THREADS;
    else process.env.TX_THREADS = saved;
  });

  it('refuses more than 64 in one line, from --threads or TX_THREADS', async () => {
    refused(await tx('sample', '--checkpoint', checkpoint, '--threads', '100000'), '--threads must be an integer from 1 to 64, got "100000"');
    refused(await tx('train', '--threads', '65', '--out', join(tmp(), 'x')), '--threads must be an integer from 1 to 64, got "65"');
    for (const raw of ['2000', '400']) {
      process.env.TX_THREADS = raw;
      refused(await tx('sample', '--checkpoint', checkpoint, '--backend', 'wasm', '--max-new-tokens', '2'), `TX_THREADS must be an integer from 1 to 64, got "${raw}"`);
    }
  }, 120_000);

  it('TX_THREADS=400 tx sample exits 2 with one line, as a process', async () => {
    const child = spawn('node', [cli, 'sample', '--checkpoint', checkpoint, '--max-new-tokens', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TX_THREADS: '400' } });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(2);
    expect(stderr).toBe('tx: TX_THREADS must be an integer from 1 to 64, got "400"\n');
  }, 120_000);

  it('starts at most as many as there are cores, and the start line says what was asked', async () => {
    const cores = availableParallelism();
    const r = await tx('train', '--config', tinyConfig(), '--max-iters', '1', '--eval-interval', '1', '--threads', '64', '--out', join(tmp(), 'ck'), '--backend', 'wasm', '--json');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const start = JSON.parse(r.stdout.split('\n')[0]);
    expect(start).toMatchObject({ event: 'start', threads: Math.min(64, cores) });
    expect(start.threadsAsked).toBe(cores < 64 ? 64 : undefined);
    const text = await tx('train', '--config', tinyConfig(), '--max-iters', '1', '--eval-interval', '1', '--threads', '64', '--out', join(tmp(), 'ck'), '--backend', 'wasm');
    if (cores < 64) expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`, ${cores} threads?, 64 asked: this machine has ${cores} cores?\\): `));
  }, 120_000);
});

describe('tx import hf reads only regular files, within limits', () => {
  it('a FIFO as model.safetensors is one line, not a hang', async () => {
    const dir = hfCopy();
    const weights = join(dir, 'model.safetensors');
    rmSync(weights);
    execFileSync('mkfifo', [weights]);
    refused(await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `${weights}: a FIFO (named pipe), not a regular file; tx reads only regular files`);
  }, 60_000);

  it('model.safetensors as a folder is named, not "a file: cannot read it (EISDIR)"', async () => {
    const dir = hfCopy();
    const weights = join(dir, 'model.safetensors');
    rmSync(weights);
    mkdirSync(weights);
    refused(await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `${weights}: a folder, not a regular file; tx reads only regular files`);
  }, 60_000);

  it('config.json linked to /dev/zero and tokenizer.json to /dev/urandom are one line each; a 643 MB config.json is refused unread', async () => {
    const dir = hfCopy();
    const config = join(dir, 'config.json');
    renameSync(config, join(dir, 'config.real'));
    symlinkSync('/dev/zero', config);
    refused(await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `--dir ${config} (a link to /dev/zero): a character device, not a regular file; tx reads only regular files`);
    rmSync(config);
    renameSync(join(dir, 'config.real'), config);

    const tokenizer = join(dir, 'tokenizer.json');
    rmSync(tokenizer);
    symlinkSync('/dev/urandom', tokenizer);
    refused(await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `--dir ${tokenizer} (a link to /dev/urandom): a character device, not a regular file; tx reads only regular files`);
    rmSync(tokenizer);
    execFileSync('mkfifo', [tokenizer]);
    refused(await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `--dir ${tokenizer}: a FIFO (named pipe), not a regular file; tx reads only regular files`);

    const big = hfCopy();
    truncateSync(join(big, 'config.json'), 643 * 1024 * 1024); // sparse: no disk used
    refused(await tx('import', 'hf', '--dir', big, '--out', join(tmp(), 'ck'), '--backend', 'cpu'), `--dir ${join(big, 'config.json')}: 643.0 MB, more than the 16.0 MB allowed for a config file`);
  }, 60_000);

  it('a U8 weight is reported as U8, not as the int32 it is widened to', async () => {
    const dir = hfCopy();
    rewriteTensor(join(dir, 'model.safetensors'), 'transformer.h.0.attn.c_proj.bias', 'U8', new Uint8Array(64).fill(7));
    refused(
      await tx('import', 'hf', '--dir', dir, '--out', join(tmp(), 'ck'), '--backend', 'cpu'),
      `${join(dir, 'model.safetensors')}: tensor "transformer.h.0.attn.c_proj.bias" is U8; GPT-2's weights are floats (F32, F16, BF16 or F64)`,
    );
  }, 60_000);
});

describe('a corpus is bounded before it is read', () => {
  it('a 400 MB --data file is one line before any work (sparse: no disk used)', async () => {
    const dir = tmp();
    const big = join(dir, 'big.txt');
    writeFileSync(big, '');
    truncateSync(big, 400 * 1024 * 1024);
    const r = await tx('train', '--task', 'text', '--data', big, '--out', join(dir, 'ck'), '--backend', 'cpu');
    expect(r.stderr).toMatch(new RegExp(`^tx: --data ${big}: 400\\.0 MB, more than the [\\d.]+ MB allowed for a corpus \\([^\\n]+\\)\\n$`));
    expect([r.code, r.stdout]).toEqual([2, '']);
    const fifo = join(dir, 'corpus.fifo');
    execFileSync('mkfifo', [fifo]);
    refused(await tx('train', '--task', 'text', '--data', fifo, '--out', join(dir, 'ck'), '--backend', 'cpu'), `--data ${fifo}: a FIFO (named pipe), not a regular file; tx reads only regular files`);
  }, 60_000);

  it('the limit is 100 MiB, or what the memory budget allows at 32 bytes per byte of text', async () => {
    const limit = corpusLimit({});
    if (limit.bytes === 100 * 1024 ** 2) expect(limit.reason).toBe('at a token per character, a JavaScript array holds at most 134M tokens');
    else expect(limit.reason).toMatch(/^tokenizing takes about 32 bytes of memory per byte of text, and the budget is /); // a machine short of memory
    expect(corpusLimit({ TX_MEMORY_BUDGET: '512MB' })).toEqual({ bytes: 16 * 1024 ** 2, reason: 'tokenizing takes about 32 bytes of memory per byte of text, and the budget is 512.0 MB (TX_MEMORY_BUDGET)' });
    const dir = tmp();
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, '');
    truncateSync(corpus, 17 * 1024 ** 2);
    const saved = process.env.TX_MEMORY_BUDGET;
    process.env.TX_MEMORY_BUDGET = '512MB';
    try {
      refused(
        await tx('train', '--task', 'text', '--data', corpus, '--out', join(dir, 'ck'), '--backend', 'cpu'),
        `--data ${corpus}: 17.0 MB, more than the 16.0 MB allowed for a corpus (tokenizing takes about 32 bytes of memory per byte of text, and the budget is 512.0 MB (TX_MEMORY_BUDGET))`,
      );
    } finally {
      if (saved === undefined) delete process.env.TX_MEMORY_BUDGET;
      else process.env.TX_MEMORY_BUDGET = saved;
    }
  }, 60_000);

  it("a checkpoint's settings.data naming another file is named on --resume, and its bytes never echoed", async () => {
    const dir = tmp();
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, 'to be or not to be, that is the question\n'.repeat(50));
    const ck = join(dir, 'ck');
    const trained = await tx('train', '--task', 'text', '--data', corpus, '--config', tinyConfig(), '--max-iters', '1', '--eval-interval', '1', '--out', ck, '--backend', 'wasm', '--json');
    expect([trained.code, trained.stderr]).toEqual([0, '']);
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$6$Zq9XK:19000:0:99999:7:::\n');
    const configPath = join(ck, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.settings.data = secret;
    writeFileSync(configPath, JSON.stringify(config));
    const r = await tx('train', '--resume', ck, '--max-iters', '2', '--backend', 'wasm');
    refused(r, `--resume ${ck}: its corpus ${secret} (settings.data): the checkpoint's tokenizer cannot encode it (line 1, column 5 holds a character outside its 15-token vocabulary); give the corpus it was trained on with --data`);
    expect(r.stderr).not.toMatch(/Zq9XK|":"/); // "root" is in the vocabulary; the ':' after it is not, and is not shown
    const evaluated = await tx('eval', '--checkpoint', ck, '--backend', 'wasm');
    refused(evaluated, `--checkpoint ${ck}: its corpus ${secret} (settings.data): the checkpoint's tokenizer cannot encode it (line 1, column 5 holds a character outside its 15-token vocabulary); give the corpus it was trained on with --data`);

    config.settings.data = '/dev/zero';
    writeFileSync(configPath, JSON.stringify(config));
    refused(await tx('train', '--resume', ck, '--max-iters', '2', '--backend', 'wasm'), `--data /dev/zero: a character device, not a regular file; tx reads only regular files`);
  }, 120_000);
});

describe("a checkpoint's own files are read under the same rules", () => {
  it('tokenizer.json linked to /dev/urandom, or config.json a FIFO, is one line for sample; a FIFO config.json in --out does not block train', async () => {
    const dir = tmp();
    const ck = join(dir, 'ck');
    expect((await tx('import', 'hf', '--dir', hf, '--out', ck, '--backend', 'cpu')).code).toBe(0);
    const tokenizer = join(ck, 'tokenizer.json');
    rmSync(tokenizer);
    symlinkSync('/dev/urandom', tokenizer);
    refused(await tx('sample', '--checkpoint', ck, '--max-new-tokens', '2', '--backend', 'cpu'), `${tokenizer} (a link to /dev/urandom): a character device, not a regular file; tx reads only regular files`);

    const config = join(ck, 'config.json');
    rmSync(config);
    execFileSync('mkfifo', [config]);
    refused(await tx('sample', '--checkpoint', ck, '--max-new-tokens', '2', '--backend', 'cpu'), `${config}: a FIFO (named pipe), not a regular file; tx reads only regular files`);
    const r = await tx('train', '--out', ck, '--config', tinyConfig(), '--max-iters', '1', '--backend', 'cpu');
    expect(r.code).toBe(2); // refused as a folder of files tx cannot vouch for, without reading the FIFO
    expect(r.stderr).toMatch(/^tx: [^\n]+\n$/);
  }, 120_000);
});
