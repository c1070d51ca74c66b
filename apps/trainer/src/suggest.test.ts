// "Did you mean": the edit distance on hand-computed pairs, the typo threshold,
// and the lines tx prints for a mistyped command or flag.
import { describe, expect, it } from 'vitest';
import { runTx } from '../test/run-tx.js';
import { closest, editDistance } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['', 'eval', 4], // four insertions
    ['train', 'train', 0],
    ['trian', 'train', 1], // one swap of neighbours (Levenshtein: 2)
    ['evl', 'eval', 1], // one insertion
    ['sampel', 'sample', 1],
    ['max-iter', 'max-iters', 1],
    ['kitten', 'sitting', 3], // k->s, e->i, +g
    ['ca', 'abc', 3], // optimal string alignment: a swapped pair is not edited again (true Damerau: 2)
    ['export', 'import', 2],
  ])('%j -> %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  const commands = ['train', 'sample', 'eval', 'inspect', 'import', 'export', 'bench'];
  it('finds a typo within one edit per three characters', () => {
    expect(closest('trian', commands)).toBe('train');
    expect(closest('evl', commands)).toBe('eval');
    expect(closest('Train', commands)).toBe('train'); // case is no edit
    expect(closest('inspcet', commands)).toBe('inspect');
    expect(closest('max-iter', ['max-iters', 'batch-size', 'eval-interval'])).toBe('max-iters');
    expect(closest('evalinterval', ['max-iters', 'eval-interval'])).toBe('eval-interval');
  });

  it('finds nothing for a word that is no typo of any', () => {
    expect(closest('frobnicate', commands)).toBeUndefined();
    expect(closest('tran', ['bench'])).toBeUndefined();
    expect(closest('xyz', commands)).toBeUndefined(); // 3 characters allow 1 edit; "eval" is 4 away
    expect(closest('anything', [])).toBeUndefined();
  });

  it('breaks a tie by the order of the candidates', () => {
    expect(closest('xport', ['import', 'export'])).toBe('export'); // import is 2 away, export 1
    expect(closest('bat', ['cat', 'bar'])).toBe('cat'); // both 1 away
  });
});

describe('tx: did you mean', () => {
  it.each([
    [['trian'], 'tx: unknown command "trian"; did you mean "train"? (see tx --help)\n'],
    [['smaple', '--checkpoint', 'x'], 'tx: unknown command "smaple"; did you mean "sample"? (see tx --help)\n'],
    [['frobnicate'], 'tx: unknown command "frobnicate" (see tx --help)\n'],
    [['train', '--max-iter', '3'], "tx: Unknown option '--max-iter'; did you mean --max-iters? (see tx --help)\n"],
    [['train', '--max-iter=3'], "tx: Unknown option '--max-iter'; did you mean --max-iters? (see tx --help)\n"],
    [['sample', '--checkpoint', 'x', '--num-sample', '3'], "tx: Unknown option '--num-sample'; did you mean --num-samples? (see tx --help)\n"],
    [['eval', '--checkpoint', 'x', '--jsno'], "tx: Unknown option '--jsno'; did you mean --json? (see tx --help)\n"],
    [['sample', '--checkpoint', 'x', '--frobnicate'], "tx: Unknown option '--frobnicate' (see tx --help)\n"],
  ])('%j', async (args, message) => {
    const { code, stdout, stderr } = await runTx(args);
    expect([code, stdout, stderr]).toEqual([2, '', message]);
  });
});
