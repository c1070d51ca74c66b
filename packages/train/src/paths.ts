// Paths as the kernel sees them. Two names can be one place (a symlink, a
// `self -> .` alias, `link/..`), so every check of "is this the file we read"
// or "is this inside the folder we replace" compares real paths, and inode and
// device for files that exist. path.resolve() is not enough: it drops `..`
// by spelling, not by following links.
import { lstat, mkdir, readlink, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TxError } from '@tx/core';

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

/** "EROFS: read-only file system" from a Node system error (without the syscall and the path, often a hidden one); else the message. */
export function systemReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return err.message;
  const comma = err.message.indexOf(', ');
  return err.message.startsWith(`${code}: `) ? (comma < 0 ? err.message : err.message.slice(0, comma)) : `${code}: ${err.message}`;
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

/** What a path is, in words, for messages: "a folder", "a regular file", "a character device", ... */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFile()) return 'a regular file';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'a special file';
}

/**
 * Create folder `dir` and its missing parents, trying each mkdir once. Node's
 * `mkdir(dir, { recursive: true })` loops forever where a folder both exists
 * and refuses children (`/proc/self/x`: ENOENT, then EEXIST on the parent,
 * then ENOENT again); here that is one error.
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    const s = await stat(p).catch(() => null);
    if (s !== null) break;
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    await mkdir(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // EEXIST: made meanwhile, or a file (the next step says ENOTDIR)
    });
  }
}
