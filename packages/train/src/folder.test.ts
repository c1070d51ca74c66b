// replaceFolder under crashes: a writer that "dies" at a step simply never
// continues (its onStep promise never resolves: no catch, no finally runs, as
// with a kill), and the next writer and reader find what is on disk. The
// user's files beside and inside the folder are checked after every kill and
// every save: byte for byte, and never touched when they are not tx's.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, MARKER, checkReplaceable, findCompleteCopy, listCopies, recoverFolder, replaceFolder, type SwapStep } from './folder.js';
import { makeFolder, realPath } from './paths.js';

const STEPS: SwapStep[] = ['recovered', 'files-written', 'manifest-written', 'moved-old', 'moved-new', 'removed-old'];
const never = () => new Promise<void>(() => {});

/** Write version `v` (a config.json and a 64 KB weights file), dying at `killAt` if given. */
async function save(dir: string, v: number, killAt?: SwapStep, overwrite = false): Promise<'done' | 'killed'> {
  let killed = false;
  const writing = replaceFolder(
    dir,
    async (temp) => {
      writeFileSync(join(temp, 'weights.bin'), new Uint8Array(65536).fill(v));
      writeFileSync(join(temp, 'config.json'), JSON.stringify({ version: v }));
    },
    {
      overwrite,
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

/** Files at paths relative to `root`, with their contents: written now, checked later. */
class UserFiles {
  readonly files = new Map<string, string>();
  constructor(readonly root: string) {}
  add(path: string, text: string): void {
    mkdirSync(join(this.root, path, '..'), { recursive: true });
    writeFileSync(join(this.root, path), text);
    this.files.set(path, text);
  }
  /** Each file, read under `base` (the folder a reader takes, for the files inside it). */
  expectAll(where: string, base = this.root): void {
    for (const [path, text] of this.files) expect(readFileSync(join(base, path), 'utf8'), `${path} ${where}`).toBe(text);
  }
}

describe('replaceFolder', () => {
  it('survives any two crashes in a row, at every step; keeps the user files beside and inside; cleans up after them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    let kills = 0;
    let cases = 0;
    for (const first of [...STEPS, undefined]) {
      for (const second of [...STEPS, undefined]) {
        const name = `case-${cases++}`;
        const dir = join(root, name);
        await save(dir, 1);
        // Beside: a user's `X.old` (issue 29, item 1), an old-format temp name, a note. Inside: a note and a subfolder.
        const beside = new UserFiles(root);
        beside.add(`${name}.old/important.txt`, `keep ${name}`);
        beside.add(`.${name}.tmp-1-2-3/config.json`, '{"version": 9}');
        beside.add(`${name}-notes.txt`, 'mine');
        const inside = new UserFiles(dir);
        inside.add('NOTES.md', `notes of ${name}\n`);
        inside.add('sub/deep.txt', 'deep');
        const check = async (when: string) => {
          beside.expectAll(when);
          inside.expectAll(when, (await findCompleteCopy(dir))!.path);
        };

        const r1 = await save(dir, 2, first);
        await check(`after a kill at ${first}`);
        if (existsSync(dir)) inside.add('later.txt', `added after ${first}`);
        const r2 = await save(dir, 3, second);
        await check(`after kills at ${first}, ${second}`);
        kills += Number(r1 === 'killed') + Number(r2 === 'killed');
        // A save counts once the old folder has made way for it (before that, the complete old one is read).
        const reached = (killAt: SwapStep | undefined) => killAt === undefined || STEPS.indexOf(killAt) >= STEPS.indexOf('moved-old');
        const expected = reached(second) ? 3 : reached(first) ? 2 : 1;
        expect(await read(dir), `killed at ${first} then ${second}`).toBe(expected);

        // The next writer recovers, writes, keeps the user's files, and leaves only the folder itself.
        expect(await save(dir, 4)).toBe('done');
        expect(await read(dir)).toBe(4);
        beside.expectAll('after the next save');
        inside.expectAll('after the next save');
        expect(readdirSync(root).filter((n) => n.includes(name)).sort()).toEqual([`.${name}.tmp-1-2-3`, name, `${name}-notes.txt`, `${name}.old`]);
        expect(readdirSync(dir).sort()).toEqual(['NOTES.md', 'config.json', ...(inside.files.has('later.txt') ? ['later.txt'] : []), 'manifest.json', 'sub', 'weights.bin']);
      }
    }
    expect(cases).toBe(49);
    expect(kills).toBe(84);
  });

  it('never takes an incomplete copy, nor a bare D.old or an unmarked box', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    await save(dir, 2, 'moved-old'); // the old box holds 1, the temp box 2 (complete)
    const temp = readdirSync(root).find((n) => n.startsWith('.run.tx-tmp-'))!;
    writeFileSync(join(root, temp, 'run', 'weights.bin'), new Uint8Array(10)); // a disk that filled up
    expect(await read(dir)).toBe(1);
    // Copies that are not provably tx's are never read: a bare run.old, a box without its marker.
    mkdirSync(join(root, 'run.old'));
    writeFileSync(join(root, 'run.old', 'config.json'), '{"version": 7}');
    mkdirSync(join(root, '.run.tx-old-1-2-3', 'run'), { recursive: true });
    writeFileSync(join(root, '.run.tx-old-1-2-3', 'run', 'config.json'), '{"version": 8}');
    expect((await listCopies(dir)).map((c) => c.kind).sort()).toEqual(['old', 'temp']);
    expect(await read(dir)).toBe(1);
    await save(dir, 3);
    expect(readdirSync(root).sort()).toEqual(['.run.tx-old-1-2-3', 'run', 'run.old']);
    expect(readFileSync(join(root, 'run.old', 'config.json'), 'utf8')).toBe('{"version": 7}');
  });

  it('a user file only the old copy holds is moved into the folder; one that differs from the folder\'s stays, with its box', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    writeFileSync(join(dir, 'NOTES.md'), 'v1');
    await save(dir, 2, 'moved-old');
    // As if the user had written into the folder between the save's links and its move.
    const old = join(root, readdirSync(root).find((n) => n.startsWith('.run.tx-old-'))!, 'run');
    writeFileSync(join(old, 'late.txt'), 'late');
    rmSync(join(old, 'NOTES.md'));
    writeFileSync(join(old, 'NOTES.md'), 'v2, a new file');
    await recoverFolder(dir);
    expect(readFileSync(join(dir, 'late.txt'), 'utf8')).toBe('late');
    expect(readFileSync(join(dir, 'NOTES.md'), 'utf8')).toBe('v1');
    expect(readdirSync(old)).toEqual(['NOTES.md']); // never lost: left where it was
    expect(readFileSync(join(old, 'NOTES.md'), 'utf8')).toBe('v2, a new file');
    expect(await read(dir)).toBe(2);
  });

  it('a box belongs to the folder its marker names, not to every folder its name starts like', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const other = join(root, 'run.tx-tmp-5');
    await save(other, 1);
    await save(other, 2, 'moved-old'); // its boxes, .run.tx-tmp-5.tx-old-* and .run.tx-tmp-5.tx-tmp-*, also start with `.run.tx-tmp-`
    await save(join(root, 'run'), 1);
    expect(readdirSync(root).filter((n) => n.startsWith('.run.tx-tmp-5.tx-'))).toHaveLength(2);
    expect(await read(other)).toBe(2);
  });

  it('a kill right after a box is made leaves a box without a marker, which the next writer removes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    mkdirSync(join(root, '.run.tx-tmp-1-2-3'));
    mkdirSync(join(root, '.run.tx-old-1-2-4'));
    writeFileSync(join(root, '.run.tx-old-1-2-4', MARKER), '{"form'); // cut short
    await recoverFolder(dir);
    expect(readdirSync(root)).toEqual(['run']);
  });

  it('refuses a file or a folder of files it did not write; with overwrite replaces them whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    writeFileSync(join(root, 'notes.txt'), 'mine');
    await expect(save(join(root, 'notes.txt'), 1)).rejects.toThrow(new CheckpointError(`${join(root, 'notes.txt')} is a file, not a checkpoint folder: refusing to replace it`));
    mkdirSync(join(root, 'photos'));
    writeFileSync(join(root, 'photos', 'a.jpg'), 'x');
    await expect(save(join(root, 'photos'), 1)).rejects.toThrow(`${join(root, 'photos')} holds 1 file that tx did not write (a.jpg): refusing to replace it`);
    await expect(checkReplaceable(join(root, 'photos'))).rejects.toThrow(`${join(root, 'photos')} holds 1 file that tx did not write (a.jpg): refusing to replace it`);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(join(root, 'photos'))).toEqual(['a.jpg']);
    mkdirSync(join(root, 'empty'));
    expect(await save(join(root, 'empty'), 1)).toBe('done');

    expect(await save(join(root, 'photos'), 1, undefined, true)).toBe('done');
    expect(readdirSync(join(root, 'photos')).sort()).toEqual(['config.json', 'manifest.json', 'weights.bin']);
    expect(await save(join(root, 'notes.txt'), 1, undefined, true)).toBe('done');
    expect(readdirSync(root).sort()).toEqual(['empty', 'notes.txt', 'photos']);
  });

  it('keeps the user files inside a tx folder, even with overwrite; refuses one a save would write over', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    writeFileSync(join(dir, 'NOTES.md'), 'notes\n'); // issue 29, item 3
    symlinkSync('NOTES.md', join(dir, 'link.md'));
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const ino = statSync(join(dir, 'NOTES.md')).ino;
    expect(await save(dir, 2, undefined, true)).toBe('done');
    expect(readFileSync(join(dir, 'NOTES.md'), 'utf8')).toBe('notes\n');
    expect(statSync(join(dir, 'NOTES.md')).ino).toBe(ino); // the same file, not a copy
    expect(readlinkSync(join(dir, 'link.md'))).toBe('NOTES.md');
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    expect(await read(dir)).toBe(2);

    const other = join(root, 'other');
    await replaceFolder(other, async (temp) => writeFileSync(join(temp, 'a.txt'), 'tx'));
    writeFileSync(join(other, 'b.txt'), 'mine');
    await expect(replaceFolder(other, async (temp) => writeFileSync(join(temp, 'b.txt'), 'tx'))).rejects.toThrow(
      `${join(other, 'b.txt')} was not written by tx, and this save writes a file of that name: move it out of ${other}; ${other} was left as it was`,
    );
    expect(readFileSync(join(other, 'b.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(root).sort()).toEqual(['other', 'run']);
  });

  it('a folder from before manifests: tx files by its config.json, the rest kept; a look-alike config.json is not tx', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const legacy = join(root, 'legacy');
    mkdirSync(legacy);
    writeFileSync(join(legacy, 'config.json'), '{"format": "tx-checkpoint"}');
    writeFileSync(join(legacy, 'model.safetensors'), 'old weights');
    writeFileSync(join(legacy, 'NOTES.md'), 'notes');
    expect(await save(legacy, 1)).toBe('done');
    expect(readdirSync(legacy).sort()).toEqual(['NOTES.md', 'config.json', 'manifest.json', 'weights.bin']);
    expect(readFileSync(join(legacy, 'NOTES.md'), 'utf8')).toBe('notes');

    const hf = join(root, 'hf');
    mkdirSync(hf);
    writeFileSync(join(hf, 'config.json'), '{"model_type": "gpt2"}');
    await expect(save(hf, 1)).rejects.toThrow(`${hf} holds 1 file that tx did not write (config.json): refusing to replace it`);
    expect(readFileSync(join(hf, 'config.json'), 'utf8')).toBe('{"model_type": "gpt2"}');
  });

  it('never replaces a device, a FIFO or a socket, even with overwrite, nor through a symlink', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    symlinkSync('/dev/full', join(root, 'full'));
    await expect(save(join(root, 'fifo'), 1, undefined, true)).rejects.toThrow(`${join(root, 'fifo')} is a FIFO (named pipe): tx replaces only folders and regular files, even with --force`);
    await expect(save(join(root, 'full'), 1, undefined, true)).rejects.toThrow(`${join(root, 'full')} is a character device: tx replaces only folders and regular files, even with --force`);
    expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['fifo', 'full']);
  });

  it('replaces a symlinked folder where it points, and keeps the link', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    mkdirSync(join(root, 'disk'));
    symlinkSync(join(root, 'disk', 'run'), join(root, 'run')); // dangling until the first save
    await save(join(root, 'run'), 1);
    await save(join(root, 'run'), 2, 'moved-old'); // the real folder has moved aside: the link dangles
    expect(await read(join(root, 'run'))).toBe(2);
    await save(join(root, 'run'), 3);
    expect(lstatSync(join(root, 'run')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(root, 'disk'))).toEqual(['run']);
    expect(await read(join(root, 'run'))).toBe(3);
  });

  it('a failed write leaves the old folder and no temp box', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tx-swap-'));
    const dir = join(root, 'run');
    await save(dir, 1);
    await expect(replaceFolder(dir, async () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    })).rejects.toThrow(new CheckpointError(`${dir}: cannot write it (ENOSPC: no space left on device); ${dir} was left as it was`));
    expect(readdirSync(root)).toEqual(['run']);
    expect(await read(dir)).toBe(1);
  });

  it('a path that cannot be created is one error, not a loop (/proc/self/x)', async () => {
    await expect(replaceFolder('/proc/self/x', async () => {})).rejects.toThrow(new CheckpointError('/proc/self/x: cannot write it (ENOENT: no such file or directory); /proc/self/x was left as it was'));
    await expect(checkReplaceable('/proc/self/x')).rejects.toThrow(new CheckpointError('/proc/self/x: cannot write in /proc/self (ENOENT: no such file or directory)'));
    await expect(makeFolder('/proc/self/x/y')).rejects.toThrow(/ENOENT/);
  });
});

describe('a read-only mount', () => {
  // A real read-only file system: a tmpfs, remounted read-only after a first save.
  const disk = mkdtempSync(join(tmpdir(), 'tx-ro-'));
  let mounted = false;
  beforeAll(() => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false; // not root: CI runs as root, so CI runs this test
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [disk]);
  });

  it('names the folder asked for, never a hidden box; before work and at the save', async ({ skip }) => {
    if (!mounted) skip('mounting a tmpfs needs root');
    const dir = join(disk, 'run');
    await save(dir, 1);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    await expect(checkReplaceable(dir)).rejects.toThrow(new CheckpointError(`${dir}: cannot write in ${disk} (EROFS: read-only file system)`));
    await expect(checkReplaceable(join(disk, 'new', 'run'))).rejects.toThrow(new CheckpointError(`${join(disk, 'new', 'run')}: cannot create it in ${disk} (EROFS: read-only file system)`));
    await expect(save(dir, 2)).rejects.toThrow(new CheckpointError(`${dir}: cannot write it (EROFS: read-only file system); ${dir} was left as it was`));
    expect(await read(dir)).toBe(1);
  });

  it('a mount point is refused before work (it cannot be renamed), and a save onto it leaves no box', async ({ skip }) => {
    if (!mounted) skip('mounting a tmpfs needs root');
    await expect(checkReplaceable(disk, { overwrite: true })).rejects.toThrow(new CheckpointError(`${disk} is a mount point: tx replaces a folder by renaming it, which a mount point refuses; use a folder inside it`));
    await expect(save(disk, 1, undefined, true)).rejects.toThrow(new CheckpointError(`${disk}: cannot write it (EBUSY: resource busy or locked)`));
    expect(readdirSync(join(disk, '..')).filter((n) => n.startsWith(`.${basename(disk)}.tx-`))).toEqual([]);
  });
});

describe('realPath', () => {
  it('follows links as the kernel does, and spells out what does not exist', async () => {
    const root = await realPath(mkdtempSync(join(tmpdir(), 'tx-real-')));
    mkdirSync(join(root, 'ddir'));
    symlinkSync('.', join(root, 'self'));
    symlinkSync(join(root, 'ddir'), join(root, 'link'));
    symlinkSync('nowhere/x', join(root, 'dangling'));
    symlinkSync('loop', join(root, 'loop'));
    expect(await realPath(join(root, 'self', 'ddir'))).toBe(join(root, 'ddir')); // issue 29, item 2
    expect(await realPath(join(root, 'self', 'self', 'ddir', 'new', 'file'))).toBe(join(root, 'ddir', 'new', 'file'));
    expect(await realPath(`${root}/link/..`)).toBe(root); // `..` of the real folder; resolve() gives the same here by chance
    expect(await realPath(`${root}/link/../ddir`)).toBe(join(root, 'ddir'));
    expect(await realPath(join(root, 'dangling'))).toBe(join(root, 'nowhere', 'x'));
    await expect(realPath(join(root, 'loop'))).rejects.toThrow(`${join(root, 'loop')}: too many levels of symbolic links`);
  });
});
