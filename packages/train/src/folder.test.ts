// replaceFolder under crashes: a writer that "dies" at a step simply never
// continues (its onStep promise never resolves: no catch, no finally runs, as
// with a kill), and the next writer and reader find what is on disk.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, findCompleteCopy, replaceFolder, type SwapStep } from './folder.js';

const STEPS: SwapStep[] = ['recovered', 'files-written', 'manifest-written', 'moved-old', 'moved-new', 'removed-old'];
const never = () => new Promise<void>(() => {});

/** Write version `v` (a config.json and a 64 KB weights file), dying at `killAt` if given. */
async function save(dir: string, v: number, killAt?: SwapStep): Promise<'done' | 'killed'> {
  let killed = false;
  const writing = replaceFolder(
    dir,
    async (temp) => {
      writeFileSync(join(temp, 'weights.bin'), new Uint8Array(65536).fill(v));
      writeFileSync(join(temp, 'config.json'), JSON.stringify({ version: v }));
    },
    {
      onStep: (step) => {
        if (step !== killAt) return;
        killed = true;
        return never();
      },
    },
  );
  // A killed writer never settles; wait until it reaches its kill point (or finishes).
  while (!killed) {
    const settled = await Promise.race([writing.then(() => true), new Promise((r) => setTimeout(() => r(false), 5))]);
    if (settled) return 'done';
  }
  return 'killed';
}

async function read(dir: string): Promise<number | null> {
  const copy = await findCompleteCopy(dir);
  if (!copy) return null;
  const version = JSON.parse(readFileSync(join(copy.path, 'config.json'), 'utf8')).version;
  expect(readFileSync(join(copy.path, 'weights.bin')).every((b) => b === version)).toBe(true); // never a mix
  return version;
}

describe('replaceFolder', () => {
  it('survives any two crashes in a row, at every step, and cleans up after them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    let kills = 0;
    let cases = 0;
    for (const first of [...STEPS, undefined]) {
      for (const second of [...STEPS, undefined]) {
        const dir = join(root, `case-${cases++}`);
        await save(dir, 1);
        const r1 = await save(dir, 2, first);
        const r2 = await save(dir, 3, second);
        kills += Number(r1 === 'killed') + Number(r2 === 'killed');
        // A save counts once the old folder has made way for it (before that, the complete old one is read).
        const reached = (killAt: SwapStep | undefined) => killAt === undefined || STEPS.indexOf(killAt) >= STEPS.indexOf('moved-old');
        const expected = reached(second) ? 3 : reached(first) ? 2 : 1;
        expect(await read(dir), `killed at ${first} then ${second}`).toBe(expected);

        // The next writer recovers, writes, and leaves only the folder itself.
        expect(await save(dir, 4)).toBe('done');
        expect(await read(dir)).toBe(4);
        expect(readdirSync(root).filter((n) => n.includes(`case-${cases - 1}`))).toEqual([`case-${cases - 1}`]);
        expect(readdirSync(dir).sort()).toEqual(['config.json', 'manifest.json', 'weights.bin']);
      }
    }
    expect(cases).toBe(49);
    expect(kills).toBe(84);
  });

  it('never takes an incomplete folder: a truncated file, or no manifest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    await save(dir, 2, 'moved-old'); // dir.old = 1, temp = 2 (complete)
    const temp = readdirSync(root).find((n) => n.startsWith('.run.tmp-'))!;
    writeFileSync(join(root, temp, 'weights.bin'), new Uint8Array(10)); // a disk that filled up
    expect(await read(dir)).toBe(1);
    mkdirSync(join(root, '.run.tmp-1-2-3')); // a writer killed before its manifest
    writeFileSync(join(root, '.run.tmp-1-2-3', 'config.json'), '{"version": 9}');
    expect(await read(dir)).toBe(1);
    await save(dir, 3);
    expect(readdirSync(root)).toEqual(['run']);
  });

  it('refuses to replace a file or a folder of files it did not write', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    writeFileSync(join(root, 'notes.txt'), 'mine');
    await expect(save(join(root, 'notes.txt'), 1)).rejects.toThrow(new CheckpointError(`${join(root, 'notes.txt')} is a file, not a checkpoint folder: refusing to replace it`));
    mkdirSync(join(root, 'photos'));
    writeFileSync(join(root, 'photos', 'a.jpg'), 'x');
    await expect(save(join(root, 'photos'), 1)).rejects.toThrow(`${join(root, 'photos')} holds 1 file that tx did not write (a.jpg): refusing to replace it`);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(join(root, 'photos'))).toEqual(['a.jpg']);
    mkdirSync(join(root, 'empty'));
    expect(await save(join(root, 'empty'), 1)).toBe('done');
  });

  it('a failed write leaves the old folder and no temp folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    await expect(replaceFolder(dir, async () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    })).rejects.toThrow(new CheckpointError(`no space left on device; ${dir} was left as it was`));
    expect(readdirSync(root)).toEqual(['run']);
    expect(await read(dir)).toBe(1);
  });
});
