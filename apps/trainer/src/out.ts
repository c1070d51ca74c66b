// --out never destroys what tx did not write. Before any work, a command that
// writes a folder checks where it will go (the rules themselves live in
// @tx/train's folder.ts; this file says them in the words of the flags):
//   - never onto, into or around a file it reads (the --data corpus, the
//     checkpoint being exported), compared by real path and by inode, so a
//     symlink or a `self -> .` alias is caught, even with --force;
//   - never under a file (ENOTDIR), never a device, FIFO or socket, found now
//     rather than after training;
//   - onto an existing path only when it is a folder tx wrote of the same kind
//     (a checkpoint of the same task, an export), or is empty; anything else
//     needs --force. The user's own files inside a tx folder are kept;
//   - somewhere tx can write (a read-only mount is one line now).
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TxError } from '@tx/core';
import { readTextFileWithin } from '@tx/core/node';
import { CONFIG_LIMIT } from './read.js';
import { checkReplaceable, fileKind, findCompleteCopy, isInside, realPath, sameFile } from '@tx/train/node';

/** Where a command writes its folder, what it will hold, and the paths it reads (checked by checkOut). */
export interface OutTarget {
  /** What the folder will hold: a checkpoint (of `task`) or a `tx export`. */
  format: 'tx-checkpoint' | 'tx-export';
  task?: string;
  /** Replace whatever is there (still never a file the command reads, nor a device). */
  force: boolean;
  /** Paths the command reads, by flag: --out may not be, hold or sit inside any of them. */
  reads: Array<{ flag: string; path: string }>;
}

/** --out cannot be written: one line naming the flag and the path as given. */
export class OutError extends TxError {}

/** Refuse, in one line and before any work, an --out that would lose something the user has (see the header). */
export async function checkOut(out: string, target: OutTarget): Promise<void> {
  const where = await real(out, '--out');
  const outStat = await stat(where).catch(() => null);
  for (const { flag, path } of target.reads) {
    const read = await real(path, flag);
    const readStat = await stat(read).catch(() => null);
    // Each path as given, and where it really is when a link or an alias makes that another place.
    const shown = (p: string, r: string) => (r === resolve(p) ? p : `${p} (${r})`);
    const [o, named] = [shown(out, where), `${flag} ${shown(path, read)}`];
    if (read === where || sameFile(outStat, readStat)) throw new OutError(`--out ${o} is the ${named}: writing there would replace it; choose another --out`);
    if (isInside(read, where) || isInBox(read, where)) throw new OutError(`--out ${o} holds the ${named}: writing there would delete it; choose another --out`);
    if (isInside(where, read)) throw new OutError(`--out ${o} is inside the ${named}; choose a folder outside it`);
  }
  await checkAncestors(out);
  if (outStat && !outStat.isDirectory() && !outStat.isFile()) {
    throw new OutError(`--out ${out} is ${fileKind(outStat)}: tx writes only folders, and replaces only folders and regular files, even with --force; choose another --out`);
  }
  const found = await describe(out, outStat);
  const same = found !== null && found.format === target.format && (target.task === undefined || found.task === target.task);
  if (found !== null && !same && !target.force) {
    const wanted = target.format === 'tx-export' ? 'a tx export' : `a tx checkpoint of the "${target.task}" task`;
    throw new OutError(`--out ${out} already holds ${found.what}, not ${wanted}; choose another --out, or add --force to replace it`);
  }
  // A trial write beside --out, with the user's files in it linked: a read-only mount or a file system without hard links is found now.
  await checkReplaceable(out, { overwrite: target.force }).catch((err: Error) => {
    throw new OutError(`--out ${err.message}`, { cause: err });
  });
}

/** A real path, or the flag's own line when it cannot be made (a symlink loop). */
async function real(path: string, flag: string): Promise<string> {
  try {
    return await realPath(path);
  } catch (err) {
    throw new OutError(`${flag} ${(err as Error).message}`);
  }
}

/** Whether `read` sits in one of the hidden boxes tx keeps beside `out` (`.out.tx-tmp-*`, `.out.tx-old-*`), which saving removes. */
function isInBox(read: string, out: string): boolean {
  const parent = dirname(out);
  if (!isInside(read, parent)) return false;
  const first = read.slice(parent.length + 1).split('/')[0];
  return first.startsWith(`.${basename(out)}.tx-`);
}

/** What is at `out` now (or what recovery will put there), or null when there is nothing to lose (no path, an empty folder). */
async function describe(out: string, s: Stats | null): Promise<{ what: string; format?: string; task?: string } | null> {
  if (s?.isFile()) return { what: 'a file' };
  const copy = await findCompleteCopy(out);
  if (!copy) return null;
  let config: { format?: unknown; task?: unknown } | null = null;
  try {
    config = JSON.parse(await readTextFileWithin(join(copy.path, 'config.json'), CONFIG_LIMIT)); // a FIFO or device: not a tx config
  } catch {
    config = null;
  }
  if (config?.format === 'tx-checkpoint') return { what: `a tx checkpoint of the "${String(config.task)}" task`, format: 'tx-checkpoint', task: String(config.task) };
  // A manifest without a tx config.json: only `tx export --format hf|nanogpt` writes such a folder.
  if (config?.format === 'tx-export' || copy.label === 'tx-export' || copy.manifest) return { what: 'a tx export', format: 'tx-export' };
  const names = await readdir(copy.path).catch(() => [] as string[]);
  if (names.length === 0) return null;
  return { what: `${names.length} file${names.length === 1 ? '' : 's'} that tx did not write (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})` };
}

/** The nearest existing ancestor must be a folder; say which one is a file. */
async function checkAncestors(out: string): Promise<void> {
  for (let dir = dirname(resolve(out)); ; dir = dirname(dir)) {
    const s = await stat(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOTDIR' ? 'under-file' : null));
    if (s === 'under-file') continue;
    if (s && !s.isDirectory()) throw new OutError(`--out ${out}: ${dir} is a file, not a folder`);
    if (s || dir === dirname(dir)) return;
  }
}
