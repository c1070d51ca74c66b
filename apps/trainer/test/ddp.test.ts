// "When one machine is not enough" (tooling/ddp/README.md), as a user runs it:
// a tx model is exported, trained 20 steps by PyTorch's DistributedDataParallel
// (torchrun, 2 processes over gloo on the CPU, tooling/ddp/train_ddp.py), and
// imported back. PyTorch's numbers are checked against tx's own: the final
// eval loss against `tx eval --data` of the imported model, and the first
// step's loss and gradient norm against @tx/train's trainStep on the same
// batch; then tx replays all 20 steps on PyTorch's batches and lands on the
// same weights. The hf layout makes the same trip in 3 steps. Needs torch in
// Debian's /usr/bin/python3 (or $TX_PYTHON); skips, saying so, without.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GPT, gptConfigFromNanoGPT, type NanoGPTModelArgs } from '@tx/blocks';
import { Rng, initBackend, parseSafetensors, tf } from '@tx/core';
import { loadSafetensorsFile } from '@tx/core/node';
import { AdamW, cosineWithWarmup, languageModelLoss, trainStep, type Batch } from '@tx/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTx, tinyConfig, tmp } from './run-tx.js';

const PYTHON = process.env.TX_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../../../tooling/ddp/train_ddp.py');

/** Why the test cannot run here, or null: it needs Debian's torch with torch.distributed. */
function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch.distributed.run'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is missing (apt-get install python3-torch)`;
  return r.status === 0 ? null : `${PYTHON} has no torch (apt-get install python3-torch)`;
}
const skip = torchMissing();
if (skip) console.warn(`apps/trainer/test/ddp.test.ts skipped: ${skip}`);

/** A port nothing listens on, for torchrun's rendezvous. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A corpus of a few kB in a small alphabet, the same on every machine. */
function corpus(): string {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'runs', 'home'];
  return Array.from({ length: 240 }, (_, i) => `${words[i % 11]} ${words[(i * 7) % 11]} ${words[(i * i) % 11]}, ${words[(i * 3 + 1) % 11]}.`).join('\n');
}

interface TrainLog {
  processes: number;
  backend: string;
  steps: Array<{ step: number; loss: number; lr: number; gradNorm: number }>;
  batches: Array<{ x: number[][]; y: number[][] }>;
  eval: { tokens: number; loss: number };
}

// The recipe's settings, shortened: 20 steps, a 5-step warm-up to a lr high enough to move the model.
const STEPS = 20;
const OPT = { lr: 3e-3, minLr: 3e-4, warmupIters: 5, weightDecay: 0.1, beta2: 0.99, gradClip: 1.0 };
const run = promisify(execFile);

/** torchrun --nproc_per_node=2 train_ddp.py ARGS; --redirects/--tee because torch 1.13's defaults fail on Python 3.11. */
async function torchrun(args: string[]): Promise<string> {
  const launcher = ['-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port', String(await freePort()), '--redirects', '1', '--tee', '1'];
  return (await run(PYTHON, [...launcher, SCRIPT, ...args], { timeout: 240_000 })).stdout;
}

const batchOf = ({ x, y }: { x: number[][]; y: number[][] }): Batch => ({ x: Int32Array.from(x.flat()), y: Int32Array.from(y.flat()), batchSize: x.length, blockSize: x[0].length });

describe.skipIf(skip !== null)(`tx -> torchrun (DDP, 2 processes, gloo) -> tx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = tmp('tx-ddp-');
  const data = join(dir, 'corpus.txt');
  const val = join(dir, 'val.txt');
  let log: TrainLog;
  let args: NanoGPTModelArgs;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    const text = corpus();
    writeFileSync(data, text);
    writeFileSync(val, text.slice(Math.floor(text.length * 0.9))); // the split tx train validates on
    // 1. a small tx model, trained a little, exported with its tokenizer
    const trained = await runTx(['train', '--task', 'text', '--data', data, '--config', tinyConfig(), '--max-iters', '10', '--out', join(dir, 'ckpt'), '--backend', 'wasm', '--json']);
    expect(trained.stderr).toBe('');
    const exported = await runTx(['export', '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'export'), '--format', 'nanogpt']);
    expect(exported.stdout).toBe(`exported ${join(dir, 'ckpt')} to ${join(dir, 'export')} (model.safetensors, model_args.json, tokenizer.json)\n`);
    args = JSON.parse(readFileSync(join(dir, 'export', 'model_args.json'), 'utf8'));
    // 2. 20 steps of DDP
    const settings = ['--lr', OPT.lr, '--min-lr', OPT.minLr, '--warmup-iters', OPT.warmupIters, '--max-iters', STEPS, '--batch-size', 8, '--log-batches'].map(String);
    const stdout = await torchrun(['--init-from', join(dir, 'export'), '--data', data, '--eval-data', val, '--out', join(dir, 'trained'), ...settings]);
    expect(stdout).toMatch(/2 processes over gloo on cpu/);
    log = JSON.parse(readFileSync(join(dir, 'trained', 'train_log.json'), 'utf8'));
  }, 300_000);

  it('trains 20 steps in 2 processes and writes the tokenizer it read', () => {
    expect(log.processes).toBe(2);
    expect(log.backend).toBe('gloo');
    expect(log.steps.map((s) => s.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(log.steps.at(-1)!.loss).toBeLessThan(log.steps[0].loss - 0.05); // it learned something
    expect(readFileSync(join(dir, 'trained', 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(dir, 'ckpt', 'tokenizer.json'), 'utf8'));
  });

  it("imports back, and tx eval's loss on the same tokens equals PyTorch's final eval", async () => {
    const out = join(dir, 'back');
    const imported = await runTx(['import', 'nanogpt', '--weights', join(dir, 'trained', 'model.safetensors'), '--model-args', readFileSync(join(dir, 'trained', 'model_args.json'), 'utf8'), '--vocab-from', join(dir, 'trained', 'vocab.txt'), '--out', out, '--backend', 'wasm']);
    expect(imported.stderr).toBe('');
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(dir, 'ckpt', 'tokenizer.json'), 'utf8')); // the same ids on both sides
    const evaluated = await runTx(['eval', '--checkpoint', out, '--data', val, '--json', '--backend', 'wasm']);
    const result = JSON.parse(evaluated.stdout);
    expect(result.tokens).toBe(log.eval.tokens);
    console.log(`final eval: PyTorch ${log.eval.loss}, tx eval ${result.loss}, difference ${Math.abs(result.loss - log.eval.loss).toExponential(2)}`);
    expect(Math.abs(result.loss - log.eval.loss)).toBeLessThan(1e-4);
  });

  it("the first step's loss and gradient norm equal tx's own first step on the same batch, and tx's replay of all 20 steps lands on PyTorch's weights", async () => {
    const { tensors } = await loadSafetensorsFile(join(dir, 'export', 'model.safetensors'));
    const model = new GPT(gptConfigFromNanoGPT(args), { rng: new Rng(1) });
    model.loadStateDict(tensors);
    tf.dispose(Object.values(tensors));
    const optimizer = new AdamW(model.namedParameters(), { lr: OPT.lr, beta2: OPT.beta2, weightDecay: OPT.weightDecay });
    const schedule = cosineWithWarmup({ lr: OPT.lr, minLr: OPT.minLr, warmupIters: OPT.warmupIters, decayIters: STEPS });
    const step = trainStep({ model, optimizer, loss: (b: Batch) => languageModelLoss(model, b), gradClip: OPT.gradClip });
    const ours = [];
    for (let i = 0; i < STEPS; i++) ours.push({ ...(await step([batchOf(log.batches[i])], schedule(i))), lr: schedule(i) });
    const first = { loss: Math.abs(ours[0].loss - log.steps[0].loss), gradNorm: Math.abs(ours[0].gradNorm - log.steps[0].gradNorm) };
    console.log(`first step: loss PyTorch ${log.steps[0].loss}, tx ${ours[0].loss} (difference ${first.loss.toExponential(2)}); grad norm difference ${first.gradNorm.toExponential(2)}`);
    expect(first.loss).toBeLessThan(1e-4);
    expect(first.gradNorm).toBeLessThan(1e-4);
    ours.forEach((s, i) => {
      expect(s.lr).toBeCloseTo(log.steps[i].lr, 12); // the same schedule
      expect(Math.abs(s.loss - log.steps[i].loss), `step ${i + 1}`).toBeLessThan(1e-4);
    });
    // After 20 steps: tx's weights against the file PyTorch wrote.
    const trained = parseSafetensors(readFileSync(join(dir, 'trained', 'model.safetensors'))).tensors;
    const mine = model.stateDict();
    let worst = 0;
    for (const [name, t] of Object.entries(mine)) {
      const theirs = trained[name].data as Float32Array;
      const values = t.dataSync();
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - theirs[i]));
    }
    tf.dispose(Object.values(mine));
    console.log(`after ${STEPS} steps: largest weight difference, tx replay vs PyTorch DDP, ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    optimizer.dispose();
    model.dispose();
  });

  it('the hf layout makes the same trip: tx export --format hf, 3 steps, tx import hf, the same eval loss', async () => {
    const exported = await runTx(['export', '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'export-hf'), '--format', 'hf', '--backend', 'wasm']);
    expect(exported.code).toBe(0);
    await torchrun(['--init-from', join(dir, 'export-hf'), '--data', data, '--eval-data', val, '--out', join(dir, 'trained-hf'), '--max-iters', '3', '--batch-size', '8']);
    const hfLog: TrainLog = JSON.parse(readFileSync(join(dir, 'trained-hf', 'train_log.json'), 'utf8'));
    const imported = await runTx(['import', 'hf', '--dir', join(dir, 'trained-hf'), '--out', join(dir, 'back-hf'), '--backend', 'wasm']);
    expect(imported.stderr).toBe('');
    expect(readFileSync(join(dir, 'back-hf', 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(dir, 'ckpt', 'tokenizer.json'), 'utf8'));
    const result = JSON.parse((await runTx(['eval', '--checkpoint', join(dir, 'back-hf'), '--data', val, '--json', '--backend', 'wasm'])).stdout);
    console.log(`hf final eval: PyTorch ${hfLog.eval.loss}, tx eval ${result.loss}`);
    expect(Math.abs(result.loss - hfLog.eval.loss)).toBeLessThan(1e-4);
  }, 300_000);
});
