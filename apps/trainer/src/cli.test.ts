// tx as a user runs it, in-process through runCli (stdout and stderr are
// what tx itself writes), and as a process for exit codes and signals.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncoderDecoderTransformer } from '@tx/blocks';
import { Rng } from '@tx/core';
import { exactMatch, makeExamples, maxTargetLength } from '@tx/train';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from './model-io.js';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';
import { greedyDecode } from './seq2seq-train.js';
import { threadsFlag } from './run.js';
import { availableParallelism } from 'node:os';

const cli = join(import.meta.dirname, '../dist/cli.js');
const fixtures = join(import.meta.dirname, '../../../packages/blocks/test/fixtures');
const run = runTx;
/** The built CLI as a process, for what only a process shows: exit codes, signals, a full stdout. */
const spawnCli = (args: string[]) => spawn('node', [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const exited = (child: ReturnType<typeof spawn>) => new Promise<number | null>((resolve) => child.on('close', resolve));
const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));
const small = ['--backend', 'wasm', '--json'];

describe('tx: bad input', () => {
  it('prints help, and a mistake is exit code 2 as a process too', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/tx import   nanogpt\|hf \[--weights FILE\.safetensors\]/);
    const child = spawnCli(['frobnicate']);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    expect(await exited(child)).toBe(2);
    expect(stderr).toBe('tx: unknown command "frobnicate" (see tx --help)\n');
  });

  it.each([
    [['frobnicate'], 'tx: unknown command "frobnicate" (see tx --help)\n'],
    [['train', '--max-iter', '3'], "tx: Unknown option '--max-iter'; did you mean --max-iters? (see tx --help)\n"],
    [['train', '--max-iters', 'ten'], 'tx: --max-iters must be an integer >= 1, got "ten"\n'],
    [['train', '--backend', 'tpu'], 'tx: --backend must be one of auto, webgpu, wasm, cpu, got "tpu"\n'],
    [['train', '--task', 'text'], 'tx: --task text needs --data FILE (a UTF-8 text file)\n'],
    [['train', '--preset', 'gpt5'], 'tx: unknown preset "gpt5" (known: nanogpt-cpu, shakespeare-char, gpt2, mini-transformer, llama-mini)\n'],
    [['sample'], 'tx: --checkpoint is required (see tx --help)\n'],
    [['sample', '--checkpoint', '/nonexistent/ckpt'], 'tx: no checkpoint at /nonexistent/ckpt: the folder does not exist\n'],
    [['import', 'keras', '--out', 'x'], 'tx: tx import knows two formats, "nanogpt" and "hf"; got "keras"\n'],
    [['train', '--tokenizer', 'bpe', '--vocab-size', '100'], 'tx: --vocab-size must be an integer >= 256 and <= 1000000, got "100"\n'],
    [['bench', '--steps', '0'], 'tx: --steps must be a positive integer, got "0"\n'],
    [['import', 'nanogpt', '--weights', 'w', '--model-args', '{"n_layer": 1}', '--vocab', 'aab', '--out', 'x'], null],
  ])('%j: one line on stderr, exit code 2', async (args, message) => {
    const { code, stderr } = await run(args);
    if (message === null) expect(stderr).toMatch(/^tx: [^\n]+\n$/);
    else expect(stderr).toBe(message);
    expect(code).toBe(2);
  });

  it('names the file, line and field of a bad config, and a data file too short for the context', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'run.json'), '{\n  "task": "names",\n  "lr": -1\n}\n');
    expect((await run(['train', '--config', join(dir, 'run.json')])).stderr).toBe(`tx: ${join(dir, 'run.json')}:3: field "lr" must be a number > 0, got -1\n`);
    writeFileSync(join(dir, 'tiny.txt'), 'hello there, this is short');
    const short = await run(['train', '--task', 'text', '--data', join(dir, 'tiny.txt'), ...small]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/tiny\.txt: the train split has \d+ tokens, fewer than the context \+ 1 \(65\)/);
  });

  it('reports a corrupt checkpoint in one line', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), '{"format": "tx-checkpoint", "task": "names", "model": {"kind": "gpt"}}');
    writeFileSync(join(dir, 'model.safetensors'), 'not a safetensors file');
    const { code, stderr } = await run(['sample', '--checkpoint', dir]);
    expect(code).toBe(2);
    expect(stderr).toBe(`tx: ${dir}/config.json: model.config must be an object\n`);
  });
});

describe('tx: the names model end to end', () => {
  const dir = tmp();
  const out = join(dir, 'names');

  it('trains, lowers the loss, saves a checkpoint and prints samples', async () => {
    // One layer of 32 channels learns names in 120 steps too (val loss about 2.56); 4 eval batches, not 20.
    const { code, stdout } = await run(['train', '--config', tinyConfig({ nLayer: 1, nHead: 2, nEmbd: 32, evalIters: 4 }), '--max-iters', '120', '--eval-interval', '60', '--out', out, ...small]);
    expect(code).toBe(0);
    const ev = events(stdout);
    expect(ev[0]).toMatchObject({ event: 'start', task: 'names', backend: 'wasm', vocabSize: 28 });
    const steps = ev.filter((e) => e.event === 'step');
    expect(steps).toHaveLength(120);
    expect(steps[0].loss).toBeGreaterThan(3.0); // ~ln 28 = 3.33 at the start
    const evals = ev.filter((e) => e.event === 'eval');
    expect(evals.map((e) => e.step)).toEqual([60, 120]);
    expect(evals[1].valLoss).toBeLessThan(2.7);
    expect(ev.filter((e) => e.event === 'sample')).toHaveLength(10);
    expect(ev.at(-1)).toEqual({ event: 'done', checkpoint: out, valLoss: evals[1].valLoss });
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ format: 'tx-checkpoint', task: 'names', model: { kind: 'gpt' }, training: { step: 120 } });
  });

  it('samples: one JSON object per token, then the result with only the new ids', async () => {
    const { code, stdout } = await run(['sample', '--checkpoint', out, '--prompt', 'ma', '--max-new-tokens', '5', '--seed', '1', '--json']);
    expect(code).toBe(0);
    const lines = events(stdout);
    const final = lines.at(-1);
    expect(final).toMatchObject({ done: true });
    const tokens = lines.slice(0, -1);
    expect(final.ids).toEqual(tokens.map((t) => t.id));
    expect(final.text).toBe(tokens.map((t) => t.text).join(''));
    expect(tokens[0].top.length).toBe(5);
    expect(tokens[0].top[0].p).toBeGreaterThanOrEqual(tokens[0].top[1].p);
    expect(final.tokensPerSecond).toBeGreaterThan(0);
    // Same seed, same text.
    expect(events((await run(['sample', '--checkpoint', out, '--prompt', 'ma', '--max-new-tokens', '5', '--seed', '1', '--json'])).stdout).at(-1).ids).toEqual(final.ids);
  });

  it('inspects: tokens, ids, logits per position, attention [layer][head][query][key] and the loss', async () => {
    const { code, stdout } = await run(['inspect', '--checkpoint', out, '--text', 'emma', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.tokens).toEqual(['e', 'm', 'm', 'a']);
    expect(r.logits).toHaveLength(4);
    expect(r.logits[0]).toHaveLength(28);
    expect(r.attention).toHaveLength(1); // layers
    expect(r.attention[0]).toHaveLength(2); // heads
    expect(r.attention[0][0][2]).toHaveLength(4);
    expect(r.attention[0][0][0][1]).toBe(0); // causal: the first token sees only itself
    for (const row of r.attention[0][1]) expect(row.reduce((a: number, b: number) => a + b)).toBeCloseTo(1, 4);
    // loss = mean cross-entropy of ids[1:] under logits[:-1], recomputed here from the logits
    const ce = r.ids.slice(1).map((id: number, i: number) => {
      const row: number[] = r.logits[i];
      const max = Math.max(...row);
      return Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - row[id];
    });
    expect(r.loss).toBeCloseTo(ce.reduce((a: number, b: number) => a + b) / ce.length, 4);
  });

  it('evaluates loss and perplexity', async () => {
    const { code, stdout } = await run(['eval', '--checkpoint', out, '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 4);
    expect(r.loss).toBeLessThan(2.8);
  });
});

describe('tx: interrupt and resume', () => {
  it('Ctrl-C saves a checkpoint and prints the resume command; resuming ends where an uninterrupted run ends', async () => {
    const dir = tmp();
    const config = tinyConfig();
    // Enough steps that a loaded machine cannot finish before the signal lands (the stop is on an event, not a clock).
    const args = (o: string) => ['train', '--config', config, '--max-iters', '1000', '--eval-interval', '500', '--out', join(dir, o), ...small];
    expect((await run(args('straight'))).code).toBe(0);

    const child = spawn('node', [cli, ...args('interrupted')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/"event":"step","step":7\b/.test(stdout) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    const interrupted = events(stdout).find((e) => e.event === 'interrupted');
    expect(interrupted).toMatchObject({ signal: 'SIGINT', checkpoint: join(dir, 'interrupted'), resume: `pnpm tx train --resume ${join(dir, 'interrupted')}` });
    expect(interrupted.step).toBeLessThan(1000);

    const resumed = await run(['train', '--resume', join(dir, 'interrupted'), '--json']);
    expect(resumed.code).toBe(0);
    const steps = events(resumed.stdout).filter((e) => e.event === 'step');
    expect(steps[0].step).toBe(interrupted.step + 1);
    expect(readFileSync(join(dir, 'interrupted', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'straight', 'model.safetensors')));
  });

  it('SIGTERM saves like Ctrl-C and exits 143', async () => {
    const dir = tmp();
    const child = spawn('node', [cli, 'train', '--max-iters', '400', '--out', join(dir, 'run'), ...small], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/"event":"step","step":3\b/.test(stdout) && !child.killed) child.kill('SIGTERM');
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(143);
    const interrupted = events(stdout).find((e) => e.event === 'interrupted');
    expect(interrupted).toMatchObject({ signal: 'SIGTERM', checkpoint: join(dir, 'run') });
    expect(JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8')).training.step).toBe(interrupted.step);
  });

  it('a full stdout is one line on stderr and exit code 2', async () => {
    const child = spawn('sh', ['-c', `node ${cli} --help > /dev/full`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(2);
    expect(stderr).toBe('tx: cannot write to standard output (ENOSPC: no space left on device)\n');
  });
});

describe('tx import nanogpt', () => {
  it('turns a nanoGPT state dict into a checkpoint whose logits match PyTorch', async () => {
    const dir = tmp();
    const ref = JSON.parse(readFileSync(join(fixtures, 'gpt_nobias.json'), 'utf8'));
    const vocab = 'abcdefghijklmnopqrst'; // 20 symbols, as the fixture's vocab_size
    const imported = await run(['import', 'nanogpt', '--weights', join(fixtures, 'gpt_nobias.safetensors'), '--model-args', JSON.stringify(ref.model_args), '--vocab', vocab, '--out', join(dir, 'ckpt')]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const text = (ref.ids[0] as number[]).map((id) => vocab[id]).join('');
    const { stdout } = await run(['inspect', '--checkpoint', join(dir, 'ckpt'), '--text', text, '--json', '--backend', 'cpu']);
    const logits = JSON.parse(stdout).logits as number[][];
    const want = (ref.logits as number[]).slice(0, 16 * 20);
    expect(Math.max(...logits.flat().map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-4);

    const mismatch = await run(['import', 'nanogpt', '--weights', join(fixtures, 'gpt_nobias.safetensors'), '--model-args', JSON.stringify(ref.model_args), '--vocab', 'abc', '--out', join(dir, 'bad')]);
    expect(mismatch.stderr).toBe('tx: the vocabulary has 3 characters but --model-args says vocab_size 20\n');
  });
});

describe('tx: the dates task', () => {
  it('trains an encoder-decoder, reports accuracy, and rewrites a date', async () => {
    const dir = tmp();
    const { code, stdout } = await run(['train', '--task', 'dates', '--config', tinyConfig({ nLayer: 1, nHead: 2, nEmbd: 16, evalIters: 2 }), '--max-iters', '30', '--eval-interval', '30', '--out', join(dir, 'dates'), ...small]);
    expect(code).toBe(0);
    const ev = events(stdout);
    // The reported accuracy is exact match of greedy decoding on the fixed validation set: recompute it from the checkpoint.
    const evalEvent = ev.find((e) => e.event === 'eval');
    const opened = await openCheckpoint(join(dir, 'dates'), { bytes: 1e9, reason: 'test' });
    const valExamples = makeExamples('dates', 256, new Rng(1337 + 7));
    const predictions = await greedyDecode(opened.model as EncoderDecoderTransformer, opened.tokenizer, valExamples.map((e) => e.source), maxTargetLength('dates'));
    expect(evalEvent.accuracy).toBe(exactMatch(predictions, valExamples));
    opened.model.dispose();
    expect(ev.filter((e) => e.event === 'sample')[0]).toHaveProperty('prediction');
    const sampled = await run(['sample', '--checkpoint', join(dir, 'dates'), '--prompt', '27 Nov 2026', '--greedy', '--json']);
    expect(sampled.code).toBe(0);
    expect(events(sampled.stdout).at(-1)).toMatchObject({ done: true });
    const beams = await run(['sample', '--checkpoint', join(dir, 'dates'), '--prompt', '27 Nov 2026', '--beams', '3', '--json']);
    expect(beams.code).toBe(0);
    expect(JSON.parse(beams.stdout)).toMatchObject({ done: true });
    const inspected = JSON.parse((await run(['inspect', '--checkpoint', join(dir, 'dates'), '--text', '27 Nov 2026', '--json'])).stdout);
    expect(inspected.sourceTokens).toEqual([...'27 Nov 2026']);
    expect(inspected.cross[0][0]).toHaveLength(inspected.tokens.length);
    expect(inspected.cross[0][0][0]).toHaveLength(11);
  });
});

describe('tx export and tx bench', () => {
  it('exports the files the site loads, and benchmarks a preset', async () => {
    const dir = tmp();
    expect((await run(['train', '--config', tinyConfig(), '--max-iters', '2', '--eval-interval', '2', '--out', join(dir, 'names'), ...small])).code).toBe(0);
    const exported = await run(['export', '--checkpoint', join(dir, 'names'), '--out', join(dir, 'site')]);
    expect(exported.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'site', 'config.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'tx-export', version: 1, task: 'names', model: { kind: 'gpt' } });
    expect(readFileSync(join(dir, 'site', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'names', 'model.safetensors')));
    expect(JSON.parse(readFileSync(join(dir, 'site', 'tokenizer.json'), 'utf8'))).toMatchObject({ kind: 'char' });

    const bench = await run(['bench', '--backend', 'wasm', '--steps', '2', '--new-tokens', '16', '--json']);
    expect(bench.code).toBe(0);
    const r = JSON.parse(bench.stdout);
    expect(r).toMatchObject({ preset: 'nanogpt-cpu', backend: 'wasm', batchSize: 12, blockSize: 64 });
    expect(r.trainTokensPerSecond).toBeGreaterThan(0);
    expect(r.generateTokensPerSecondCached).toBeGreaterThan(0);
  });
});

describe('--threads', () => {
  it('takes the flag, else leaves TX_THREADS to @tx/core, else every core', () => {
    const saved = process.env.TX_THREADS;
    try {
      delete process.env.TX_THREADS;
      expect(threadsFlag({ threads: '3' })).toBe(3);
      expect(threadsFlag({})).toBe(availableParallelism());
      process.env.TX_THREADS = '1';
      expect(threadsFlag({})).toBeUndefined(); // @tx/core reads (and checks) it
      expect(threadsFlag({ threads: '2' })).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TX_THREADS;
      else process.env.TX_THREADS = saved;
    }
  });
});
