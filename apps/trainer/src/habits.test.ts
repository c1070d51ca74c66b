// nanoGPT's habits in tx: a log line every --log-interval steps (in a pipe and
// in a terminal, beside the progress line; the loss is read back only then:
// readback.test.ts counts the reads), `tx sample --num-samples N` and
// `--start FILE`, and `tx eval` saying what it estimates.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run.js';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));
const LOG = /^iter +(\d+)\/(\d+): loss (\d+\.\d{4}), (\d+\.\d) ms\/iter, ([\d,]+) tok\/s, ETA (\d+s|\d+m \d\ds)$/;

/** tx with a standard output that says it is a terminal. */
async function runInTerminal(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s), isTTY: true }, stderr: { write: () => true } });
  return { code, stdout };
}

describe('tx train --log-interval', () => {
  const train = (out: string, ...more: string[]) => ['train', '--config', tinyConfig(), '--max-iters', '6', '--eval-interval', '3', '--out', out, '--backend', 'wasm', ...more];

  it('prints a log line every N steps between the eval lines; --json with it, a step event at each read', async () => {
    const dir = tmp();
    const { code, stdout } = await runTx(train(join(dir, 'a'), '--log-interval', '2'));
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const logs = lines.filter((l) => l.startsWith('iter'));
    expect(logs.map((l) => LOG.exec(l)?.slice(1, 3))).toEqual([['2', '6'], ['4', '6'], ['6', '6']]);
    // Each in its place: iter 2, step 3's eval, iter 4, iter 6, step 6's eval.
    const order = lines.filter((l) => /^(iter|step) /.test(l)).map((l) => l.split(/[:/]/)[0].replace(/ +/g, ' '));
    expect(order).toEqual(['iter 2', 'step 3', 'iter 4', 'iter 6', 'step 6']);
    expect(stdout).not.toContain('\r'); // no progress line in a pipe

    // The loss is read back at 2, at 3 (before the eval), at 4 and at 6: one event each, for the steps since the last.
    const json = events((await runTx(train(join(dir, 'b'), '--log-interval', '2', '--json'))).stdout);
    expect(json.map((e) => e.event)).toEqual(['start', 'step', 'step', 'eval', 'step', 'step', 'eval', ...Array(10).fill('sample'), 'done']);
    expect(json.filter((e) => e.event === 'step').map((e) => [e.step, e.steps])).toEqual([[2, 2], [3, 1], [4, 1], [6, 2]]);
  }, 120_000);

  it('the mean loss of the interval, from the same steps --json reports', async () => {
    const dir = tmp();
    const text = (await runTx(train(join(dir, 'a'), '--log-interval', '3'))).stdout;
    const json = events((await runTx(train(join(dir, 'b'), '--json'))).stdout).filter((e) => e.event === 'step');
    // Same seed, same steps: the losses agree to float32 (the log line shows 4 decimals).
    const means = [json.slice(0, 3), json.slice(3, 6)].map((steps) => steps.reduce((s, e) => s + e.loss, 0) / 3);
    const logged = text.split('\n').filter((l) => l.startsWith('iter')).map((l) => Number(LOG.exec(l)![3]));
    expect(logged).toHaveLength(2);
    logged.forEach((loss, i) => expect(loss).toBeCloseTo(means[i], 4));
  }, 120_000);

  it('in a terminal: each log line replaces the progress line, which is redrawn below it', async () => {
    const { code, stdout } = await runInTerminal(train(join(tmp(), 'a'), '--log-interval', '2'));
    expect(code).toBe(0);
    expect(stdout.match(/\r\x1b\[Kiter ([246])\/6: [^\n]+\n\[[#.]{20}\] \1\/6 /g)?.length).toBe(3); // each log line, then its step's bar
    expect(stdout).toMatch(/\r\x1b\[Kiter 6\/6: [^\n]+\n\[#{20}\] 6\/6 [^\n]+\x1b\[K\r\x1b\[Kstep 6: train loss /);
  }, 120_000);

  it('refuses an interval that is not a positive integer', async () => {
    for (const bad of ['0', '-5', '2.5', 'ten']) {
      expect(await runTx(['train', '--log-interval', bad])).toEqual({ code: 2, stdout: '', stderr: `tx: --log-interval must be a positive integer, got "${bad}"\n` });
    }
  });
});

describe('tx sample --num-samples and --start', () => {
  const dir = tmp();
  const names = join(dir, 'names');
  const text = join(dir, 'text');

  it('names: N samples, one name a line, sample i the one --seed (seed + i) draws alone', async () => {
    expect((await runTx(['train', '--config', tinyConfig(), '--max-iters', '40', '--eval-interval', '40', '--out', names, '--backend', 'wasm', '--json'])).code).toBe(0);
    const three = await runTx(['sample', '--checkpoint', names, '--num-samples', '3', '--seed', '7']);
    expect([three.code, three.stderr]).toEqual([0, '']);
    const lines = three.stdout.split('\n');
    expect(lines).toHaveLength(4); // three names and the last newline
    expect(lines[3]).toBe('');
    for (let i = 0; i < 3; i++) expect((await runTx(['sample', '--checkpoint', names, '--seed', String(7 + i)])).stdout).toBe(`${lines[i]}\n`);
    // No --seed: 1337, as @tx/generate's default and as the samples at the end of training.
    expect((await runTx(['sample', '--checkpoint', names])).stdout).toBe((await runTx(['sample', '--checkpoint', names, '--seed', '1337'])).stdout);
  }, 120_000);

  it('--start FILE is the prompt, read as it is; every sample starts with it', async () => {
    const prompt = join(dir, 'prompt.txt');
    writeFileSync(prompt, 'ma');
    const fromFile = await runTx(['sample', '--checkpoint', names, '--start', prompt, '--num-samples', '4']);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toBe((await runTx(['sample', '--checkpoint', names, '--prompt', 'ma', '--num-samples', '4'])).stdout);
    expect(fromFile.stdout.split('\n').slice(0, 4).every((l) => l.startsWith('ma'))).toBe(true);
  }, 120_000);

  it('text: samples separated by a line of 15 dashes, as nanoGPT; --json gives each sample its tokens and its result', async () => {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, 'to be or not to be, that is the question\n'.repeat(50));
    expect((await runTx(['train', '--task', 'text', '--data', corpus, '--config', tinyConfig(), '--max-iters', '5', '--eval-interval', '5', '--out', text, '--backend', 'wasm', '--json'])).code).toBe(0);
    const args = ['sample', '--checkpoint', text, '--prompt', 'to', '--max-new-tokens', '8', '--num-samples', '3'];
    const { code, stdout } = await runTx(args);
    expect(code).toBe(0);
    const samples = stdout.split('\n---------------\n');
    expect(samples).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(`${samples[i]}${i < 2 ? '\n' : ''}`).toBe((await runTx(['sample', '--checkpoint', text, '--prompt', 'to', '--max-new-tokens', '8', '--seed', String(1337 + i)])).stdout);
    const json = events((await runTx([...args, '--json'])).stdout);
    const done = json.filter((e) => e.done);
    expect(done).toHaveLength(3);
    expect(json).toHaveLength(3 * 9); // 8 tokens (no stop string for text), then the result, per sample
    expect(done.map((d) => `to${d.text}`)).toEqual(samples.map((s) => s.replace(/\n$/, '')));
  }, 120_000);

  it('refuses --start with --prompt, a FIFO, a missing file, and a count that is not a positive integer', async () => {
    const prompt = join(dir, 'p.txt');
    writeFileSync(prompt, 'em');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: Array<[string[], string]> = [
      [['--start', prompt, '--prompt', 'em'], 'tx: give the prompt with --prompt or --start FILE, not both\n'],
      [['--start', fifo], `tx: --start ${fifo}: a FIFO (named pipe), not a regular file; tx reads only regular files\n`],
      [['--start', join(dir, 'none.txt')], `tx: --start ${join(dir, 'none.txt')}: cannot read it (ENOENT: no such file or directory)\n`],
      [['--num-samples', '0'], 'tx: --num-samples must be a positive integer, got "0"\n'],
      [['--num-samples', '1.5'], 'tx: --num-samples must be a positive integer, got "1.5"\n'],
    ];
    for (const [more, message] of cases) expect(await runTx(['sample', '--checkpoint', names, ...more])).toEqual({ code: 2, stdout: '', stderr: message });
  }, 120_000);
});

describe('tx eval says what it estimates', () => {
  it("the split, its windows and tokens, and training's last estimate with its batches and seed", async () => {
    const out = join(tmp(), 'names');
    const trained = events((await runTx(['train', '--config', tinyConfig(), '--max-iters', '30', '--eval-interval', '30', '--seed', '5', '--out', out, '--backend', 'wasm', '--json'])).stdout);
    const { valTokens } = trained[0];
    const lastEval = trained.filter((e) => e.event === 'eval').at(-1);
    const r = JSON.parse((await runTx(['eval', '--checkpoint', out, '--json'])).stdout);
    const windows = Math.floor((valTokens - 1) / 16); // tinyConfig's context is 16
    expect(r).toMatchObject({ data: 'names corpus (validation split)', split: 'val', splitSeed: 5, windows, tokens: windows * 16, blockSize: 16 });
    // tinyConfig: 2 eval batches; the names task's batch is 32; drawn with Rng(seed + step).
    expect(r.training).toEqual({ step: 30, valLoss: lastEval.valLoss, batches: 2, batchSize: 32, blockSize: 16, seed: 35 });
    const human = (await runTx(['eval', '--checkpoint', out])).stdout.split('\n');
    expect(human).toEqual([
      `data        names corpus (validation split), the last 10% of the names shuffled with seed 5: ${valTokens.toLocaleString('en-US')} tokens`,
      `estimate    every token once, in ${windows.toLocaleString('en-US')} windows of 16 (${(windows * 16).toLocaleString('en-US')} targets), no sampling`,
      `loss        ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(4)}`,
      `training    val loss ${lastEval.valLoss.toFixed(4)} at step 30: the mean of 2 random batches of 32 x 16 (1,024 targets, windows may repeat), drawn with seed 5 + 30`,
      '',
    ]);
    // A file of the user's: no split, and no training figure to compare with.
    const file = join(tmp(), 'names.txt');
    writeFileSync(file, 'emma\nolivia\nava\nsophia\nisabella\nmia\n');
    const other = JSON.parse((await runTx(['eval', '--checkpoint', out, '--data', file, '--json'])).stdout);
    expect(other).toMatchObject({ data: file, split: null, windows: 2, tokens: 32 }); // 36 tokens: (36 - 1) / 16 -> 2 windows
    expect(other.training).toBeUndefined();
  }, 120_000);

  it('a seq2seq model: how many fresh examples, drawn with which seed, decoded how', async () => {
    const out = join(tmp(), 'dates');
    // The task's context (48: a source is up to 28 tokens), one small layer each side.
    const trained = await runTx(['train', '--task', 'dates', '--config', tinyConfig({ nLayer: 1, nHead: 2, nEmbd: 16, evalIters: 2 }), '--max-iters', '2', '--eval-interval', '2', '--seed', '11', '--out', out, '--backend', 'wasm', '--json']);
    expect([trained.code, trained.stderr]).toEqual([0, '']);
    const r = JSON.parse((await runTx(['eval', '--checkpoint', out, '--json'])).stdout);
    expect(r).toMatchObject({ task: 'dates', examples: 500, seed: 110, decoding: 'greedy' });
    expect((await runTx(['eval', '--checkpoint', out])).stdout).toBe(
      `data      500 fresh dates examples, generated with seed 110 (the run's seed 11 + 99)\nestimate  exact match of the greedy answer\naccuracy  ${r.accuracy.toFixed(4)}\n`,
    );
  }, 120_000);
});
