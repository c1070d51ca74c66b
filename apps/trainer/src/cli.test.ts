// Drives the built CLI as a user would: `node dist/cli.js ...`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '@tx/core';

const cli = join(import.meta.dirname, '../dist/cli.js');
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [cli, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('tx', () => {
  it('prints help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/tx train \[options\]/);
  });

  it.each([
    [['frobnicate'], 'tx: unknown command "frobnicate" (see tx --help)\n'],
    [['train', '--max-iter', '3'], "tx: Unknown option '--max-iter' (see tx --help)\n"],
    [['train', '--max-iters', 'ten'], 'tx: --max-iters must be an integer >= 1, got "ten"\n'],
    [['train', '--backend', 'tpu'], 'tx: --backend must be auto, webgpu, wasm or cpu, got "tpu"\n'],
  ])('rejects %j with one line on stderr and exit code 2', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toBe(message);
  });

  it('trains the default model, lowers the loss, saves a checkpoint and prints samples', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tx-train-')), 'names');
    const { code, stdout } = await run(['train', '--max-iters', '200', '--eval-interval', '100', '--backend', 'wasm', '--out', out, '--json']);
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ event: 'start', backend: 'wasm', vocabSize: 28 });
    const steps = events.filter((e) => e.event === 'step');
    expect(steps).toHaveLength(200);
    // Uniform guessing over 28 symbols (a-z, '-' and the end mark) costs ln 28 = 3.33 nats; a bigram model of names reaches ~2.45.
    expect(steps[0].loss).toBeCloseTo(Math.log(28), 1);
    const evals = events.filter((e) => e.event === 'eval');
    expect(evals.map((e) => e.step)).toEqual([100, 200]);
    expect(evals[1].valLoss).toBeLessThan(2.6);
    expect(events.filter((e) => e.event === 'sample')).toHaveLength(10);
    expect(events.at(-1)).toEqual({ event: 'done', checkpoint: out, valLoss: evals[1].valLoss });

    const { tensors } = parseSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(tensors.table.shape).toEqual([28, 28]);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.tokenizer.chars).toHaveLength(28);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
  });

  it('is reproducible: the same seed gives the same losses and samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-seed-'));
    const args = (o: string) => ['train', '--max-iters', '20', '--backend', 'wasm', '--seed', '7', '--json', '--out', join(dir, o)];
    const strip = (s: string) => s.split('\n').filter((l) => l.includes('"loss"') || l.includes('"sample"')).map((l) => l.replace(/"ms":[\d.e-]+,"tokensPerSecond":[\d.e+-]+/, ''));
    const [a, b] = await Promise.all([run(args('a')), run(args('b'))]);
    expect(strip(a.stdout).length).toBeGreaterThan(20);
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
  });
});
