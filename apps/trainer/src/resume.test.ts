// Resuming a finished run: one line saying there is nothing to do, exit 0,
// and not one byte written (every file of the folder hashed before and
// after, hidden ones included). A config.json whose step no double can
// count (1e20) is one line naming the field.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

/** Every file under `dir` (hidden ones too) with its sha256 and mtime. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

describe('tx train --resume of a finished run', () => {
  const dir = tmp();
  const ck = join(dir, 'ck');
  const small = ['--backend', 'wasm'];

  beforeAll(async () => {
    const r = await runTx(['train', '--config', tinyConfig(), '--max-iters', '4', '--eval-interval', '2', '--out', ck, ...small, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
  }, 120_000);

  it.each([
    [['--max-iters', '4'], `nothing to do: CK is at step 4, which is --max-iters 4; give a larger --max-iters to train on\n`],
    [[], `nothing to do: CK is at step 4, which is --max-iters 4; give a larger --max-iters to train on\n`],
    [['--max-iters', '3'], `nothing to do: CK is at step 4, past --max-iters 3; give a larger --max-iters to train on\n`],
  ])('%j: one line, exit 0, the checkpoint byte-identical', async (flags, line) => {
    const before = snapshot(dir);
    const r = await runTx(['train', '--resume', ck, ...flags, ...small]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, line.replace('CK', ck), '']);
    expect(snapshot(dir)).toEqual(before);
  });

  it('writes nothing to another --out either, and says so in JSON', async () => {
    const before = snapshot(dir);
    const r = await runTx(['train', '--resume', ck, '--max-iters', '4', '--out', join(dir, 'copy'), ...small, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ event: 'nothing-to-do', step: 4, maxIters: 4, checkpoint: ck });
    expect(existsSync(join(dir, 'copy'))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  });

  it('still trains on when --max-iters is larger', async () => {
    const more = join(dir, 'more');
    const r = await runTx(['train', '--resume', ck, '--max-iters', '5', '--out', more, ...small, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(readFileSync(join(more, 'config.json'), 'utf8')).training.step).toBe(5);
  }, 120_000);

  it('refuses a step of 1e20 in config.json in one line naming the field, and changes nothing', async () => {
    const config = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
    config.training.step = 1e20;
    writeFileSync(join(ck, 'config.json'), JSON.stringify(config, null, 2));
    const before = snapshot(dir);
    const r = await runTx(['train', '--resume', ck, '--max-iters', '150', ...small]);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `tx: ${ck}/config.json: training.step must be an integer from 0 to 9007199254740991, got 100000000000000000000\n`]);
    expect(snapshot(dir)).toEqual(before);
  });
});
