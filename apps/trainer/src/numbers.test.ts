// Strict numbers: flags take plain decimal only, --config files JSON numbers
// only; everything else is one line naming the flag or the field.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decimal } from './numbers.js';
import { runTx, tmp } from '../test/run-tx.js';

describe('decimal', () => {
  it.each([
    ['7', true, 7],
    ['-1', true, -1],
    ['007', true, 7],
    ['9007199254740991', true, 2 ** 53 - 1],
    ['0.5', false, 0.5],
    ['.5', false, 0.5],
    ['1.', false, 1],
    ['1e-3', false, 0.001],
    ['2.5E+2', false, 250],
    ['-3', false, -3],
  ] as const)('reads %j (integer: %s) as %s', (text, integer, value) => {
    expect(decimal(text, { integer })).toBe(value);
  });

  it.each([
    ...['0x10', '0b1', '0o7', ' 1e-3 ', '1e-3 ', ' 7', '', ' ', 'Infinity', '-Infinity', 'NaN', '+1', '1_000', '1e999', '.', 'e3', '1e', '--1'].map((t) => [t, false] as const),
    ...['1e3', '2.0', '1.5', '0x10', ' 3', '', 'Infinity', 'NaN', '9007199254740993', '100000000000000000000'].map((t) => [t, true] as const),
  ])('refuses %j (integer: %s)', (text, integer) => {
    expect(decimal(text, { integer })).toBeNull();
  });
});

describe('tx refuses loose numbers in one line naming the flag', () => {
  it.each([
    [['train', '--lr', '0x10'], '--lr must be a number > 0, got "0x10"'],
    [['train', '--lr', ' 1e-3 '], '--lr must be a number > 0, got " 1e-3 "'],
    [['train', '--lr', ''], '--lr must be a number > 0, got ""'],
    [['train', '--lr', 'Infinity'], '--lr must be a number > 0, got "Infinity"'],
    [['train', '--lr', 'NaN'], '--lr must be a number > 0, got "NaN"'],
    [['train', '--max-iters', '1e3'], '--max-iters must be an integer >= 1, got "1e3"'],
    [['train', '--max-iters', '100000000000000000000'], '--max-iters must be an integer >= 1, got "100000000000000000000"'],
    [['train', '--seed', '0x1'], '--seed must be an integer >= 0 and <= 4294967295, got "0x1"'],
    [['sample', '--checkpoint', 'x', '--temperature', '0x1'], '--temperature must be a positive number, got "0x1"'],
    [['sample', '--checkpoint', 'x', '--max-new-tokens', '1e2'], '--max-new-tokens must be a positive integer, got "1e2"'],
    [['sample', '--checkpoint', 'x', '--top-p', ' 0.5'], '--top-p must be a positive number, got " 0.5"'],
    [['sample', '--checkpoint', 'x', '--seed', 'Infinity'], '--seed must be an integer >= 0 and <= 4294967295, got "Infinity"'],
    [['bench', '--steps', '0b11'], '--steps must be a positive integer, got "0b11"'],
  ])('%j', async (argv, message) => {
    const r = await runTx(argv);
    expect([r.code, r.stderr, r.stdout]).toEqual([2, `tx: ${message}\n`, '']);
  });

  it('takes plain decimal: --lr 1e-3 and --max-iters 1 train', async () => {
    const dir = tmp();
    const config = join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, evalIters: 1 }));
    const r = await runTx(['train', '--config', config, '--lr', '1e-3', '--max-iters', '1', '--eval-interval', '1', '--out', join(dir, 'ck'), '--backend', 'wasm', '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
  }, 120_000);

  it('wants JSON numbers in a --config file, not strings', async () => {
    const dir = tmp();
    for (const [field, value, expected] of [
      ['lr', '0.001', 'a number > 0 (a JSON number, not a string)'],
      ['maxIters', '100', 'an integer >= 1 (a JSON number, not a string)'],
    ] as const) {
      const path = join(dir, `${field}.json`);
      writeFileSync(path, `{\n  "task": "names",\n  "${field}": "${value}"\n}\n`);
      const r = await runTx(['train', '--config', path]);
      expect([r.code, r.stderr]).toEqual([2, `tx: ${path}:3: field "${field}" must be ${expected}, got "${value}"\n`]);
    }
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '{"maxIters": 1e20}');
    expect((await runTx(['train', '--config', huge])).stderr).toBe(`tx: ${huge}:1: field "maxIters" must be an integer >= 1, got 100000000000000000000\n`);
  });
});
