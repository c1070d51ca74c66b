// `tx train` reads the loss back from the device only at log lines (issue 25:
// no read-back inside a step). Every read is logged on one timeline with what
// tx writes, so the test counts the reads made before the last log line: the
// training steps' reads, not the eval's, the checkpoint's or the samples'.
// On wasm a read is a tensor's data()/dataSync(); on webgpu (Dawn in Node) a
// GPUBuffer.mapAsync, the call that stalls a GPU until its queue has drained.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { initBackend, tf } from '@tx/core';
import { skipWebGPU } from '@tx/core/testing';
import { runCli } from './run.js';
import { tinyConfig, tmp } from '../test/run-tx.js';

// The 10 names sampled at the end of a run take a minute on SwiftShader, and are not what is counted here.
vi.mock('@tx/generate', async (importOriginal) => ({ ...(await importOriginal<typeof import('@tx/generate')>()), generate: async () => ({ text: 'x' }) }));

type Entry = { read: true } | { line: string };

/** Runs tx in-process; returns its exit code and the timeline of reads and written lines. */
async function timeline(argv: string[], spy: (log: Entry[]) => void, isTTY = false): Promise<{ code: number; log: Entry[] }> {
  const log: Entry[] = [];
  spy(log);
  const write = (s: string) => {
    for (const line of s.split(/[\n\r]/)) if (line) log.push({ line: line.replace(/\x1b\[K/g, '') });
    return true;
  };
  const code = await runCli(argv, { stdout: { write, isTTY }, stderr: { write } });
  vi.restoreAllMocks();
  return { code, log };
}

/** Reads made before the first written line that matches `marker`. */
function readsBefore(log: Entry[], marker: RegExp): number {
  const at = log.findIndex((e) => 'line' in e && marker.test(e.line));
  expect(at, `no line matches ${marker}`).toBeGreaterThanOrEqual(0);
  return log.slice(0, at).filter((e) => 'read' in e).length;
}

/** Logs every read of a tensor's values. */
function spyTensorReads(log: Entry[]): void {
  for (const method of ['data', 'dataSync'] as const) {
    const original = tf.Tensor.prototype[method] as (this: tf.Tensor) => unknown;
    vi.spyOn(tf.Tensor.prototype, method).mockImplementation(function (this: tf.Tensor) {
      log.push({ read: true });
      return original.call(this) as never;
    });
  }
}

describe('tx train reads the loss back only at log lines (wasm)', () => {
  afterEach(() => vi.restoreAllMocks());
  // 10 steps, one eval at the end: the last log line (iter 10/10) comes before the eval's reads.
  const train = (out: string, ...more: string[]) => ['train', '--config', tinyConfig(), '--max-iters', '10', '--eval-interval', '10', '--out', out, '--backend', 'wasm', ...more];

  it('text, in a pipe and in a terminal: --log-interval 5 over 10 steps is 2 reads (one per log line), --log-interval 1 is 20 (loss and norm each step)', async () => {
    const dir = tmp();
    const five = await timeline(train(join(dir, 'a'), '--log-interval', '5'), spyTensorReads);
    expect(five.code).toBe(0);
    expect(readsBefore(five.log, /^iter +5\/10:/)).toBe(1);
    expect(readsBefore(five.log, /^iter 10\/10:/)).toBe(2);

    const terminal = await timeline(train(join(dir, 'b'), '--log-interval', '5'), spyTensorReads, true);
    expect(terminal.code).toBe(0);
    expect(readsBefore(terminal.log, /^iter 10\/10:/)).toBe(2);
    // The progress line is drawn at each read: after iter 5 and iter 10, not between.
    expect(terminal.log.filter((e) => 'line' in e && e.line.startsWith('[')).map((e) => (e as { line: string }).line.split(/ +/)[1])).toEqual(['5/10', '10/10']);

    // The baseline: a read of the loss and one of the gradient norm at every step.
    const one = await timeline(train(join(dir, 'c'), '--log-interval', '1'), spyTensorReads);
    expect(readsBefore(one.log, /^iter 10\/10:/)).toBe(20);
  }, 180_000);

  it('--json: every step (20 reads) by default; with --log-interval 5, one step event per 5 steps and 2 reads', async () => {
    const dir = tmp();
    const steps = (log: Entry[]) => log.flatMap((e) => ('line' in e && e.line.startsWith('{"event":"step"') ? [JSON.parse(e.line)] : []));
    const every = await timeline(train(join(dir, 'a'), '--json'), spyTensorReads);
    expect(every.code).toBe(0);
    expect(steps(every.log).map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(readsBefore(every.log, /"event":"step","step":10,/)).toBe(20);

    const five = await timeline(train(join(dir, 'b'), '--json', '--log-interval', '5'), spyTensorReads);
    expect(five.code).toBe(0);
    const reported = steps(five.log);
    expect(reported.map((e) => [e.step, e.steps])).toEqual([[5, 5], [10, 5]]);
    expect(readsBefore(five.log, /"event":"step","step":10,/)).toBe(2);
    // The same training: each event's loss is the mean of its 5 steps' losses.
    const mean = (from: number) => steps(every.log).slice(from, from + 5).reduce((s, e) => s + e.loss, 0) / 5;
    reported.forEach((e, i) => expect(e.loss).toBeCloseTo(mean(5 * i), 5));
  }, 180_000);
});

describe.skipIf(skipWebGPU)('tx train --backend webgpu reads nothing back between log lines', () => {
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('4 steps with --log-interval 4: one GPUBuffer.mapAsync before the log line (8 with --log-interval 1)', async () => {
    const dir = tmp();
    const spyMapAsync = (log: Entry[]) => {
      const buffer = (globalThis as unknown as { GPUBuffer?: { prototype: { mapAsync: (...args: unknown[]) => Promise<void> } } }).GPUBuffer;
      if (!buffer) throw new Error('GPUBuffer is not defined: the webgpu backend is not on');
      const original = buffer.prototype.mapAsync;
      vi.spyOn(buffer.prototype, 'mapAsync').mockImplementation(function (this: unknown, ...args: unknown[]) {
        log.push({ read: true });
        return original.apply(this, args);
      });
    };
    // A one-layer, 8-channel model, batches of 4, one eval batch: SwiftShader is slow (its shaders compile in the first step).
    const config = tinyConfig({ nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8, batchSize: 4, evalIters: 1 });
    const train = (out: string, interval: string) => ['train', '--config', config, '--max-iters', '4', '--eval-interval', '4', '--out', out, '--backend', 'webgpu', '--log-interval', interval];
    await initBackend({ prefer: 'webgpu', allowSoftwareWebGPU: true }); // loads Dawn, so GPUBuffer exists for the spy
    const four = await timeline(train(join(dir, 'a'), '4'), spyMapAsync);
    expect(four.code).toBe(0);
    expect(four.log[0]).toEqual({ line: expect.stringMatching(/^task names on webgpu/) });
    expect(readsBefore(four.log, /^iter +4\/4:/)).toBe(1);
    const one = await timeline(train(join(dir, 'b'), '1'), spyMapAsync);
    expect(readsBefore(one.log, /^iter +4\/4:/)).toBe(8);
  }, 600_000);
});
