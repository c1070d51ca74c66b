// Exit codes that need a real process: a stdout closed by the shell (`>&-`)
// and a hang-up during training. They run the built CLI (dist/cli.js).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const cli = join(import.meta.dirname, '../dist/cli.js');
const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

/** Runs `sh -c script`; resolves with the exit code and stderr. */
function sh(script: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('a closed standard output', () => {
  const dir = tmp();
  const ck = join(dir, 'names');

  it('tx sample >&- exits 2 with one line, and writes nothing', async () => {
    expect((await runTx(['train', '--config', tinyConfig(), '--max-iters', '2', '--eval-interval', '2', '--out', ck, '--backend', 'wasm', '--json'])).code).toBe(0);
    expect(await sh(`node ${cli} sample --checkpoint ${ck} --backend wasm >&-`)).toEqual({ code: 2, stderr: 'tx: cannot write to standard output (it is closed)\n' });
    expect(await sh(`node ${cli} --help >&-`)).toEqual({ code: 2, stderr: 'tx: cannot write to standard output (it is closed)\n' });
    expect(await sh(`node ${cli} train --out ${join(dir, 'never')} >&-`)).toEqual({ code: 2, stderr: 'tx: cannot write to standard output (it is closed)\n' });
    expect(existsSync(join(dir, 'never'))).toBe(false);
  }, 120_000);

  it('> /dev/null is a choice, not a closed stdout: exit 0', async () => {
    expect(await sh(`node ${cli} sample --checkpoint ${ck} --backend wasm > /dev/null`)).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});

/**
 * Starts a 400-step `tx train` and hangs it up with SIGHUP once step 3 is out;
 * with `closeStdout` its end of stdout closes too, as when a terminal goes away.
 * Resolves with the exit code and what the process wrote.
 */
function trainThenHangUp(out: string, closeStdout: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('node', [cli, 'train', '--max-iters', '400', '--out', out, '--backend', 'wasm', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (/"event":"step","step":3\b/.test(stdout) && !child.killed) {
      child.kill('SIGHUP'); // the signal first, then (when the terminal is gone) its end of stdout closes
      if (closeStdout) child.stdout.destroy();
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('SIGHUP during training', () => {
  it('saves like SIGTERM and exits 129 (128 + 1)', async () => {
    const out = join(tmp(), 'run');
    const { code, stdout, stderr } = await trainThenHangUp(out, false);
    expect(code).toBe(129);
    expect(stderr).toBe('');
    const interrupted = events(stdout).find((e) => e.event === 'interrupted');
    expect(interrupted).toMatchObject({ signal: 'SIGHUP', checkpoint: out, resume: `pnpm tx train --resume ${out}` });
    expect(interrupted.step).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.step).toBe(interrupted.step);
  }, 120_000);

  it('saves even when the terminal is gone: SIGHUP, then every write to stdout fails (EPIPE)', async () => {
    const out = join(tmp(), 'run');
    const { code, stderr } = await trainThenHangUp(out, true);
    expect(code).toBe(129);
    expect(stderr).toBe('');
    const step = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.step;
    expect(step).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
