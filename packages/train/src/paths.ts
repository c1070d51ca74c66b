// Paths as the kernel sees them. Two names can be one place (a symlink, a
// `self -> .` alias, `link/..`), so every check of "is this the file we read"
// or "is this inside the folder we replace" compares real paths, and inode and
// device for files that exist. path.resolve() is not enough: it drops `..`
// by spelling, not by following links.
import { lstat, readlink, realpath } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TxError } from '@tx/core';

// A path's kind in words and a folder made with its parents are @tx/core's, which reads and writes files the same way.
export { fileKind, makeFolder } from '@tx/core/node';

/** Symlinks followed at most (the kernel's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The real absolute path of `path`, whether or not it exists: each existing
 * component is followed the way the kernel follows it (symlinks, then `..` on
 * the real folder), and the missing rest is appended as spelled. A dangling
 * symlink resolves to where it points. Throws a TxError naming `path` on a
 * symlink loop.
 */
export async function realPath(path: string): Promise<string> {
  if (sep !== '/') return realPathByAncestor(path); // Windows: drive letters and junctions; the ancestor's realpath is enough there
  // Not resolve(): it would fold `..` by spelling. process.cwd() is real already.
  const parts = isAbsolute(path) ? path.split(sep) : [...process.cwd().split(sep), ...path.split(sep)];
  let current: string = sep;
  let missing = false; // once a component is missing, the rest is only spelling
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    if (missing) {
      current = next;
      continue;
    }
    const s = await lstat(next).catch(() => null);
    if (s?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new TxError(`${path}: too many levels of symbolic links`);
      const target = await readlink(next);
      parts.unshift(...target.split(sep));
      if (isAbsolute(target)) current = sep;
      continue;
    }
    if (s === null || !s.isDirectory()) missing = true; // nothing can exist below it
    current = next;
  }
  return current;
}

/** The realpath of the nearest existing ancestor, and the rest as spelled. */
async function realPathByAncestor(path: string): Promise<string> {
  const rest: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    const r = await realpath(p).catch(() => null);
    if (r !== null || dirname(p) === p) return join(r ?? p, ...rest.reverse());
    rest.push(basename(p));
  }
}

/** Whether `child` is strictly inside folder `parent` (both real, absolute paths). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Whether two stats are the same file (device and inode). */
export function sameFile(a: Stats | null, b: Stats | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}
