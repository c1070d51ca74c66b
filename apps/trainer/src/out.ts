// --out never destroys what tx did not write. Before any work, a command that
// writes a folder checks where it will go:
//   - never onto, into or around a file it reads (the --data corpus, the
//     checkpoint being exported);
//   - never under a file (ENOTDIR), found now rather than after training;
//   - onto an existing path only when it is a folder tx wrote of the same kind
//     (a checkpoint of the same task, an export), or is empty; anything else
//     needs --force.
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { TxError } from '@tx/core';
import { findCompleteCopy, listCopies } from '@tx/train/node';

export interface OutTarget {
  /** What the folder will hold: a checkpoint (of `task`) or a `tx export`. */
  format: 'tx-checkpoint' | 'tx-export';
  task?: string;
  /** Replace whatever is there (still never a file the command reads). */
  force: boolean;
  /** Paths the command reads, by flag: --out may not be, hold or sit inside any of them. */
  reads: Array<{ flag: string; path: string }>;
}

export class OutError extends TxError {}

export async function checkOut(out: string, target: OutTarget): Promise<void> {
  const where = resolve(out);
  for (const { flag, path } of target.reads) {
    const read = resolve(path);
    if (read === where) throw new OutError(`--out ${out} is the ${flag} ${path}: writing there would replace it; choose another --out`);
    if (inside(read, where)) throw new OutError(`--out ${out} holds the ${flag} ${path}: writing there would delete it; choose another --out`);
    if (inside(where, read)) throw new OutError(`--out ${out} is inside the ${flag} ${path}; choose a folder outside it`);
  }
  await checkAncestors(out);
  const found = await describe(out);
  if (found === null) return;
  const same = found.format === target.format && (target.task === undefined || found.task === target.task);
  if (same || target.force) return;
  const wanted = target.format === 'tx-export' ? 'a tx export' : `a tx checkpoint of the "${target.task}" task`;
  throw new OutError(`--out ${out} already holds ${found.what}, not ${wanted}; choose another --out, or add --force to replace it`);
}

/** What is at `out` now, or null when there is nothing to lose (no path, an empty folder). */
async function describe(out: string): Promise<{ what: string; format?: string; task?: string } | null> {
  const s = await stat(out).catch(() => null);
  if (s && !s.isDirectory()) return { what: 'a file' };
  const copies = await listCopies(out);
  if (copies.length === 0) return null;
  const copy = await findCompleteCopy(out);
  let config: { format?: unknown; task?: unknown } | null = null;
  try {
    config = copy ? JSON.parse(await readFile(join(copy.path, 'config.json'), 'utf8')) : null;
  } catch {
    config = null;
  }
  if (config?.format === 'tx-checkpoint') return { what: `a tx checkpoint of the "${String(config.task)}" task`, format: 'tx-checkpoint', task: String(config.task) };
  if (config?.format === 'tx-export') return { what: 'a tx export', format: 'tx-export' };
  const names = s ? await readdir(out) : [];
  if (names.length === 0 && copies.every((c) => c.kind === 'current')) return null;
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

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
