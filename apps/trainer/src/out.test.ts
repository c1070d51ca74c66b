// Issue 29, "Nothing lost, part two": each repro that lost a user's data, or
// named a hidden folder, run again with real symlinks, devices, FIFOs, a real
// read-only tmpfs and real kill -9s. Every refusal is one line and exit code 2,
// before any training; everything the user had is byte-identical after.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCompleteCopy, replaceFolder } from '@tx/train/node';
import { runTx, tinyConfig, tmp } from '../test/run-tx.js';

const tx = (...argv: string[]) => runTx(argv);
const cli = join(import.meta.dirname, '../dist/cli.js');

/** Exit code 2 and exactly one line on stderr, equal to `tx: ${message}`. */
function refused(r: { code: number; stderr: string }, message: string): void {
  expect(r.stderr).toBe(`tx: ${message}\n`);
  expect(r.code).toBe(2);
}

const tiny = ['--config', tinyConfig(), '--max-iters', '2', '--eval-interval', '2', '--backend', 'wasm', '--json'];
const corpusText = 'to be or not to be, that is the question\n'.repeat(50);

describe('tx removes only what it wrote', () => {
  it('a user folder ck.old beside the checkpoint is never touched (item 1; and no "0 files ()" line)', async () => {
    const dir = tmp();
    const ck = join(dir, 'ck');
    mkdirSync(join(dir, 'ck.old'));
    writeFileSync(join(dir, 'ck.old', 'important.txt'), 'important\n');
    expect((await tx('train', '--out', ck, ...tiny)).code).toBe(0); // ck absent, ck.old present: once refused with "0 files that tx did not write ()"
    expect((await tx('train', '--out', ck, ...tiny)).code).toBe(0);
    expect(readFileSync(join(dir, 'ck.old', 'important.txt'), 'utf8')).toBe('important\n');
    expect(readdirSync(dir).sort()).toEqual(['ck', 'ck.old']);
  });

  it('user files inside a checkpoint folder are kept, the same files (item 3)', async () => {
    const dir = tmp();
    const ck = join(dir, 'ck');
    expect((await tx('train', '--out', ck, ...tiny)).code).toBe(0);
    writeFileSync(join(ck, 'NOTES.md'), 'notes\n');
    mkdirSync(join(ck, 'plots'));
    writeFileSync(join(ck, 'plots', 'loss.csv'), '1,2\n');
    const ino = statSync(join(ck, 'NOTES.md')).ino;
    expect((await tx('train', '--out', ck, ...tiny)).code).toBe(0);
    expect((await tx('train', '--out', ck, '--force', ...tiny)).code).toBe(0); // --force replaces tx's files, not the user's
    expect(readFileSync(join(ck, 'NOTES.md'), 'utf8')).toBe('notes\n');
    expect(statSync(join(ck, 'NOTES.md')).ino).toBe(ino);
    expect(readFileSync(join(ck, 'plots', 'loss.csv'), 'utf8')).toBe('1,2\n');
    expect(readdirSync(dir)).toEqual(['ck']);
  });
});

describe('inputs and outputs are compared by real path (item 2)', () => {
  it('a symlinked --data inside --out is refused before training', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'tck'));
    writeFileSync(join(dir, 'tck', 'corpus.txt'), corpusText);
    symlinkSync(join(dir, 'tck', 'corpus.txt'), join(dir, 'link.txt'));
    const r = await tx('train', '--task', 'text', '--data', join(dir, 'link.txt'), '--out', join(dir, 'tck'), ...tiny);
    refused(r, `--out ${join(dir, 'tck')} holds the --data ${join(dir, 'link.txt')} (${join(dir, 'tck', 'corpus.txt')}): writing there would delete it; choose another --out`);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'tck', 'corpus.txt'), 'utf8')).toBe(corpusText);
  });

  it('an alias (self -> .) for the corpus folder is refused, even with --force', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'ddir'));
    writeFileSync(join(dir, 'ddir', 'corpus.txt'), corpusText);
    symlinkSync('.', join(dir, 'self'));
    const out = join(dir, 'self', 'ddir');
    refused(
      await tx('train', '--task', 'text', '--data', join(dir, 'ddir', 'corpus.txt'), '--out', out, '--force', ...tiny),
      `--out ${out} (${join(dir, 'ddir')}) holds the --data ${join(dir, 'ddir', 'corpus.txt')}: writing there would delete it; choose another --out`,
    );
    refused(
      await tx('train', '--task', 'text', '--data', join(dir, 'self', 'ddir', 'corpus.txt'), '--out', join(dir, 'ddir', 'corpus.txt'), '--force', ...tiny),
      `--out ${join(dir, 'ddir', 'corpus.txt')} is the --data ${join(dir, 'self', 'ddir', 'corpus.txt')} (${join(dir, 'ddir', 'corpus.txt')}): writing there would replace it; choose another --out`,
    );
    expect(readFileSync(join(dir, 'ddir', 'corpus.txt'), 'utf8')).toBe(corpusText);
  });
});

describe('--force replaces folders and regular files only; paths that cannot be written are one line', () => {
  const dir = tmp();
  const ck = join(dir, 'ck');
  beforeAll(async () => {
    expect((await tx('train', '--out', ck, ...tiny)).code).toBe(0);
  }, 120_000);

  it('a device, a FIFO, a symlink to a device (item 4)', async () => {
    refused(await tx('export', '--checkpoint', ck, '--out', '/dev/full', '--format', 'hf', '--force'), '--out /dev/full is a character device: tx writes only folders, and replaces only folders and regular files, even with --force; choose another --out');
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    refused(await tx('train', '--out', join(dir, 'fifo'), '--force', ...tiny), `--out ${join(dir, 'fifo')} is a FIFO (named pipe): tx writes only folders, and replaces only folders and regular files, even with --force; choose another --out`);
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    symlinkSync('/dev/null', join(dir, 'null'));
    refused(await tx('export', '--checkpoint', ck, '--out', join(dir, 'null'), '--force'), `--out ${join(dir, 'null')} is a character device: tx writes only folders, and replaces only folders and regular files, even with --force; choose another --out`);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a path that cannot be created is one line, not a loop (item 7)', async () => {
    refused(await tx('export', '--checkpoint', ck, '--out', '/proc/self/x'), '--out /proc/self/x: cannot write in /proc/self (ENOENT: no such file or directory)');
    refused(await tx('export', '--checkpoint', ck, '--out', '/proc/self/x', '--format', 'hf'), '--out /proc/self/x: cannot write in /proc/self (ENOENT: no such file or directory)');
  });

  it('re-exporting onto a folder tx exported needs no --force, in every format (item 14)', async () => {
    for (const format of ['hf', 'nanogpt', 'tx-export']) {
      const out = join(dir, `site-${format}`);
      for (let i = 0; i < 2; i++) {
        const r = await tx('export', '--checkpoint', ck, '--out', out, '--format', format);
        expect(r.stderr, `${format}, export ${i + 1}`).toBe('');
        expect(r.code).toBe(0);
      }
    }
    refused(await tx('train', '--out', join(dir, 'site-hf'), ...tiny), `--out ${join(dir, 'site-hf')} already holds a tx export, not a tx checkpoint of the "names" task; choose another --out, or add --force to replace it`);
  });

  it('a crashed save: the export reads the newest complete copy, and names the folder given', async () => {
    const crashed = join(dir, 'crashed');
    expect((await tx('train', '--out', crashed, ...tiny)).code).toBe(0);
    // Save it again, killed once it has moved the old copy aside: no `crashed` now, only tx's boxes.
    let killed = false;
    void replaceFolder(crashed, async (temp) => {
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) writeFileSync(join(temp, f), readFileSync(join(ck, f)));
    }, { onStep: (step) => (step === 'moved-old' ? ((killed = true), new Promise<void>(() => {})) : undefined) });
    while (!killed) await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(crashed)).toBe(false);
    const r = await tx('export', '--checkpoint', crashed, '--out', join(dir, 'site'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`exported ${crashed} to ${join(dir, 'site')} (config.json, model.safetensors, tokenizer.json)\n`);
  });
});

describe('a read-only mount (item 14)', () => {
  const disk = tmp('tx-ro-');
  let mounted = false;
  beforeAll(() => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', disk], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false; // not root: CI runs as root, so CI runs this test
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [disk]);
  });

  it('is one line naming --out, before any training', async ({ skip }) => {
    if (!mounted) skip('mounting a tmpfs needs root');
    const r = await tx('train', '--out', join(disk, 'ck'), ...tiny);
    refused(r, `--out ${join(disk, 'ck')}: cannot write in ${disk} (EROFS: read-only file system)`);
    expect(r.stdout).toBe('');
  });
});

describe('a file tx cannot keep by a hard link', () => {
  const dir = tmp();
  const mnt = join(dir, 'ck', 'mnt');
  let mounted = false;
  afterAll(() => {
    if (mounted) execFileSync('umount', [mnt]);
  });

  it('is one line naming it, before any training (a tmpfs mounted inside the checkpoint: EXDEV)', async ({ skip }) => {
    expect((await tx('train', '--out', join(dir, 'ck'), ...tiny)).code).toBe(0);
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      skip('mounting a tmpfs needs root');
    }
    writeFileSync(join(mnt, 'data.txt'), 'on another file system\n');
    const before = readFileSync(join(dir, 'ck', 'model.safetensors'));
    const r = await tx('train', '--out', join(dir, 'ck'), ...tiny);
    refused(r, `--out ${mnt}: cannot hard-link it into the new copy, which is how tx keeps your files (EXDEV: cross-device link not permitted)`);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'ck', 'model.safetensors'))).toEqual(before);
    expect(readFileSync(join(mnt, 'data.txt'), 'utf8')).toBe('on another file system\n');
    expect(readdirSync(dir)).toEqual(['ck']);
  });
});

describe('kill -9 during saves', () => {
  it('after every kill and the next save, the user files beside and inside the checkpoint are byte-identical', async () => {
    const dir = tmp();
    const ck = join(dir, 'ck');
    const config = tinyConfig();
    // A save at every step, so most kills land in one.
    const args = ['train', '--config', config, '--max-iters', '1000', '--eval-interval', '1', '--out', ck, '--backend', 'wasm', '--json'];
    expect((await tx(...args.map((a) => (a === '1000' ? '2' : a)))).code).toBe(0);
    const user: Array<[string, string]> = [
      [join(dir, 'ck.old', 'important.txt'), 'important\n'],
      [join(dir, '.ck.tmp-1-2-3', 'x.txt'), 'an old-format name\n'],
      [join(ck, 'NOTES.md'), 'notes\n'],
      [join(ck, 'plots', 'loss.csv'), '1,2\n'],
    ];
    for (const [path, text] of user) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
    const inside = (path: string) => path.startsWith(`${ck}/`);
    for (let kill = 1; kill <= 8; kill++) {
      const child = spawn('node', [cli, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      let evals = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        evals += (String(chunk).match(/"event":"eval"/g) ?? []).length;
        // A save starts as the eval line is written: kill a few saves in, a little later each time.
        if (evals >= 2 + kill && !child.killed) setTimeout(() => child.kill('SIGKILL'), kill - 1);
      });
      expect(await new Promise((resolve) => child.on('close', (_code, signal) => resolve(signal)))).toBe('SIGKILL');
      const copy = (await findCompleteCopy(ck))!.path;
      for (const [path, text] of user) expect(readFileSync(inside(path) ? join(copy, path.slice(ck.length)) : path, 'utf8'), `${path} after kill ${kill}`).toBe(text);
      expect((await tx('sample', '--checkpoint', ck, '--max-new-tokens', '5', '--backend', 'wasm')).code).toBe(0);
    }
    expect((await tx(...args.map((a) => (a === '1000' ? '2' : a)), '--force')).code).toBe(0);
    for (const [path, text] of user) expect(readFileSync(path, 'utf8'), `${path} after the next save`).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(['.ck.tmp-1-2-3', 'ck', 'ck.old']);
  });
});
