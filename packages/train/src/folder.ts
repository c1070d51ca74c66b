// Replacing a folder (a checkpoint, an export) so that no crash loses it, and
// nothing tx did not write is ever removed.
//
// Ownership: tx removes only what it can prove it wrote:
//   - the files listed in a folder's manifest.json (written last by tx: each
//     file and its size), and the manifest itself;
//   - its own boxes beside the folder D: `.D.tx-tmp-<id>` (a copy being
//     written) and `.D.tx-old-<id>` (D moved aside), each holding a marker file
//     `.tx-folder` that tx writes into the box before anything else, and the
//     copy itself as `<box>/D`. A name alone proves nothing: a bare `D.old`, or
//     `.D.tmp-*` from older versions of tx, is never read, moved or removed.
// Everything else in D (a user's NOTES.md, a subfolder) is the user's and is
// kept: hard-linked into the new copy before the swap, so at every instant it
// is in each copy a reader or the recovery can take. Only `overwrite` (--force)
// replaces a folder tx did not write, or a regular file, and then whole; never
// a device, FIFO or socket.
//
// A save: the new copy is written in full in a temp box, every file flushed,
// the user's files linked in, then its manifest written. A copy whose manifest
// lists files that are all there, at their sizes, is complete. Then:
//   1. D -> old box   (D is complete here: recovery made sure of it)
//   2. temp copy -> D
//   3. remove the boxes (from the old copy only tx's files and links already in D)
// A reader takes D when it is complete, else the newest complete copy in a
// box. A writer first recovers: it promotes that copy to D and removes the
// boxes. So whatever step two crashes in a row hit, the newest complete copy
// is still found, and nothing piles up.
//
// One writer per folder at a time: a second writer's recovery would remove the
// first one's temp box (the first then fails on its rename; D is untouched).
// Every path is first made real (paths.ts): a symlinked D is replaced where
// it points, and the symlink stays.
import { access, constants, link, lstat, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TxError } from '@tx/core';
import { fsyncDirectory, systemErrorReason, writeFileAtomic } from '@tx/core/node';
import { fileKind, makeFolder, realPath, sameFile } from './paths.js';

/** A checkpoint folder is missing, damaged, or not one to replace. */
export class CheckpointError extends TxError {}

/** The file replaceFolder writes last in a folder: a copy that has it is complete. */
export const MANIFEST = 'manifest.json';

/** The marker file tx writes first into each of its temp and backup boxes: a box without it is not tx's. */
export const MARKER = '.tx-folder';

/** The files a tx folder held before manifests existed (its config.json says "tx-checkpoint" or "tx-export"). */
const LEGACY_FILES = ['config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json'];

/** A step of replaceFolder, reported to `onStep` (fault-injection tests stop the writer there). */
export type SwapStep = 'recovered' | 'files-written' | 'manifest-written' | 'moved-old' | 'moved-new' | 'removed-old';

/** Options of replaceFolder. */
export interface ReplaceFolderOptions {
  /** Replace `dir` even when it is a regular file or a folder tx did not write, whole (default false). Never a device, FIFO or socket. */
  overwrite?: boolean;
  /** What the folder holds, recorded in its manifest (`tx export` writes "tx-export"), for a later writer to recognise. */
  label?: string;
  /** Called after each step; a test that never resolves it simulates a crash there. */
  onStep?: (step: SwapStep) => Promise<void> | void;
}

/** A copy of a folder that replaceFolder can leave after a crash (current, old or temporary), and whether it is complete. */
export interface FolderCopy {
  path: string;
  kind: 'current' | 'old' | 'temp';
  complete: boolean;
  /** From the manifest (ms since 1970); 0 without one. */
  savedAt: number;
  /** Whether it holds a valid manifest.json: a folder tx wrote. */
  manifest: boolean;
  /** The manifest's label (ReplaceFolderOptions.label), if any. */
  label?: string;
}

interface Manifest {
  format: 'tx-folder-manifest';
  version: 1;
  savedAt: number;
  label?: string;
  files: Record<string, number>;
}

/** What a box's marker says: a temp box is tx's whole; an old box says which of its copy's files are tx's, or that all are (`whole`: replaced by --force). */
interface Marker {
  format: 'tx-folder-box';
  version: 1;
  kind: 'temp' | 'old';
  /** The name of the folder the box belongs to (`ck.tx-tmp-5`'s boxes also start with `.ck.tx-tmp-`). */
  of: string;
  whole?: boolean;
  owned?: string[];
}

interface Box {
  path: string;
  kind: 'temp' | 'old';
  marker: Marker;
  /** The copy inside: `<box>/<basename of D>`. */
  copy: string;
}

/** How a save treats what is at D now. */
interface Plan {
  exists: boolean;
  /** keep: D is tx's (or empty); its files not in `owned` are kept. whole: D is replaced whole (overwrite). */
  mode: 'keep' | 'whole';
  owned: string[];
}

let boxes = 0;

/**
 * Replace folder `dir` with what `write(temp)` puts in a fresh folder. The old
 * contents stay readable until the new ones are complete and on disk; files in
 * `dir` that tx did not write are kept (see the header of folder.ts).
 */
export async function replaceFolder(dir: string, write: (temp: string) => Promise<void>, options: ReplaceFolderOptions = {}): Promise<void> {
  const step = async (name: SwapStep) => options.onStep?.(name);
  const real = await realPath(dir);
  await recoverFolder(dir);
  await step('recovered');
  const plan = await planReplace(dir, real, options.overwrite === true);

  let box: string | undefined;
  const copy = () => join(box!, basename(real));
  try {
    await makeFolder(dirname(real));
    box = await makeBox(real, { kind: 'temp' });
    await mkdir(copy());
    await write(copy());
    await step('files-written');
    const files = (await readdir(copy())).sort();
    if (plan.mode === 'keep' && plan.exists) await keepUserFiles(dir, real, copy(), plan.owned);
    await writeManifest(copy(), files, options.label);
    await fsyncDirectory(copy());
  } catch (err) {
    // A failed write (a full disk, a read-only mount) leaves nothing behind; D is untouched.
    if (box) await rm(box, { recursive: true, force: true }).catch(() => undefined);
    throw folderError(err, dir, [box && copy(), box, real], `; ${dir} was left as it was`);
  }
  await step('manifest-written');

  try {
    if (plan.exists) {
      const old = await makeBox(real, { kind: 'old', ...(plan.mode === 'whole' ? { whole: true } : { owned: plan.owned }) });
      await rename(real, join(old, basename(real)));
      await step('moved-old');
    }
    await rename(copy(), real);
    await fsyncDirectory(dirname(real));
  } catch (err) {
    // D could not be moved (a mount point: EBUSY): it is still there and whole, so the boxes can go now.
    if (await isDirectory(real)) for (const b of await listBoxes(real)) await removeBox(b, real).catch(() => undefined);
    throw folderError(err, dir, [copy(), real], '');
  }
  await step('moved-new');
  for (const b of await listBoxes(real)) await removeBox(b, real);
  await step('removed-old');
}

/**
 * Check before long work that replaceFolder(dir) will not be refused: `dir`
 * is absent, empty, a folder tx wrote, or (with `overwrite`) a regular file or
 * folder; and a trial box can be written beside it, with the user's files in
 * `dir` linked into it (so a read-only mount or a file system without hard
 * links is one line now, not after training). Recovers `dir` first.
 */
export async function checkReplaceable(dir: string, { overwrite = false }: { overwrite?: boolean } = {}): Promise<void> {
  const real = await realPath(dir);
  await recoverFolder(dir);
  const plan = await planReplace(dir, real, overwrite);
  const parent = dirname(real);
  if (!(await isDirectory(parent))) {
    let ancestor = dirname(parent);
    while (!(await isDirectory(ancestor)) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    await access(ancestor, constants.W_OK).catch((err) => {
      throw fileError(dir, `cannot create it in ${ancestor}`, err);
    });
    return;
  }
  const [self, above] = await Promise.all([stat(real).catch(() => null), stat(parent)]);
  if (self !== null && self.dev !== above.dev) {
    throw new CheckpointError(`${dir} is a mount point: tx replaces a folder by renaming it, which a mount point refuses; use a folder inside it`);
  }
  let box: string | undefined;
  try {
    box = await makeBox(real, { kind: 'temp' });
    if (plan.mode === 'keep' && plan.exists) {
      await mkdir(join(box, basename(real)));
      await keepUserFiles(dir, real, join(box, basename(real)), plan.owned);
    }
  } catch (err) {
    throw folderError(err, dir, [box && join(box, basename(real)), box], '', `cannot write in ${dirname(dir)}`);
  } finally {
    if (box) await rm(box, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** What a save may do with what is at `real` now: refuse, keep the user's files, or (overwrite) replace it whole. */
async function planReplace(dir: string, real: string, overwrite: boolean): Promise<Plan> {
  const s = await lstat(real).catch(() => null);
  if (s === null) return { exists: false, mode: 'keep', owned: [] };
  if (!s.isDirectory()) {
    if (!s.isFile()) throw new CheckpointError(`${dir} is ${fileKind(s)}: tx replaces only folders and regular files, even with --force`);
    if (!overwrite) throw new CheckpointError(`${dir} is a file, not a checkpoint folder: refusing to replace it`);
    return { exists: true, mode: 'whole', owned: [] };
  }
  const manifest = await readManifest(real);
  if (manifest) return { exists: true, mode: 'keep', owned: Object.keys(manifest.files) };
  const names = await readdir(real);
  if (names.length === 0) return { exists: true, mode: 'keep', owned: [] };
  if (await isLegacyTxFolder(real)) return overwrite ? { exists: true, mode: 'whole', owned: [] } : { exists: true, mode: 'keep', owned: LEGACY_FILES.filter((n) => names.includes(n)) };
  if (overwrite) return { exists: true, mode: 'whole', owned: [] };
  throw new CheckpointError(`${dir} holds ${names.length} file${names.length === 1 ? '' : 's'} that tx did not write (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}): refusing to replace it`);
}

/** Hard-link every entry of D that tx did not write into the new copy (folders recreated, their files linked). */
async function keepUserFiles(dir: string, real: string, copy: string, owned: string[]): Promise<void> {
  const ours = new Set([...owned, MANIFEST]);
  for (const name of await readdir(real)) {
    if (ours.has(name)) continue;
    if (await lstat(join(copy, name)).catch(() => null)) {
      throw new CheckpointError(`${join(dir, name)} was not written by tx, and this save writes a file of that name: move it out of ${dir}`);
    }
    await linkTree(join(real, name), join(copy, name)).catch((err) => {
      throw err instanceof TxError ? err : fileError(join(dir, name), 'cannot hard-link it into the new copy, which is how tx keeps your files', err);
    });
  }
}

async function linkTree(from: string, to: string): Promise<void> {
  const s = await lstat(from);
  if (!s.isDirectory()) return link(from, to); // a symlink, FIFO or socket is linked as itself
  await mkdir(to);
  for (const name of await readdir(from)) await linkTree(join(from, name), join(to, name));
}

/** Every copy of `dir` on disk: the folder itself, and the copies in tx's boxes beside it (an interrupted write, a moved-aside old folder). */
export async function listCopies(dir: string): Promise<FolderCopy[]> {
  const real = await realPath(dir);
  const copies: FolderCopy[] = [];
  if (await isDirectory(real)) copies.push({ path: dir, kind: 'current', ...(await checkManifest(real, true)) });
  for (const box of await listBoxes(real)) {
    if (await isDirectory(box.copy)) copies.push({ path: box.copy, kind: box.kind, ...(await checkManifest(box.copy, false)) });
  }
  return copies;
}

/**
 * The copy a reader should open: `dir` when complete, else the newest complete
 * copy, else `dir` as it is (so that its own error names what is wrong), else null.
 * A folder written before manifests existed counts as complete when it has a config.json.
 */
export async function findCompleteCopy(dir: string): Promise<FolderCopy | null> {
  const copies = await listCopies(dir);
  const current = copies.find((c) => c.kind === 'current');
  if (current?.complete) return current;
  return newest(copies.filter((c) => c.complete)) ?? current ?? null;
}

/**
 * Make `dir` the newest complete copy, and remove tx's boxes beside it. Safe
 * to crash at any point. With no complete copy anywhere, a folder moved aside
 * goes back to `dir`. Never touches a `dir` that is not a folder.
 */
export async function recoverFolder(dir: string): Promise<void> {
  const real = await realPath(dir);
  const found = await lstat(real).catch(() => null);
  if (found && !found.isDirectory()) return;
  const current = found ? await checkManifest(real, true) : null;
  if (!current?.complete) {
    const copies = [];
    for (const box of await listBoxes(real)) {
      if (await lstat(box.copy).then(() => true, () => false)) copies.push({ box, ...(await checkManifest(box.copy, false)) });
    }
    const best = newest(copies.filter((c) => c.complete)) ?? (found ? undefined : newest(copies.filter((c) => c.box.kind === 'old')));
    if (best) {
      if (found) {
        // D was damaged after it was saved: put it aside, keeping what is not tx's.
        const manifest = await readManifest(real);
        const old = await makeBox(real, { kind: 'old', owned: manifest ? Object.keys(manifest.files) : [] });
        await rename(real, join(old, basename(real)));
      }
      await rename(best.box.copy, real);
      await fsyncDirectory(dirname(real));
    }
  }
  for (const box of await listBoxes(real)) await removeBox(box, real);
  await removeUnfinishedBoxes(real);
}

/** tx's boxes beside `real`: a name with tx's prefix, a real folder (not a link), and tx's marker inside. */
async function listBoxes(real: string): Promise<Box[]> {
  const base = basename(real);
  const names = await readdir(dirname(real)).catch(() => [] as string[]);
  const found: Box[] = [];
  for (const name of names.sort()) {
    const kind = name.startsWith(`.${base}.tx-tmp-`) ? 'temp' : name.startsWith(`.${base}.tx-old-`) ? 'old' : null;
    if (kind === null) continue;
    const path = join(dirname(real), name);
    if (!(await lstat(path).then((s) => s.isDirectory(), () => false))) continue;
    const marker = await readMarker(path);
    if (marker?.kind === kind && marker.of === base) found.push({ path, kind, marker, copy: join(path, base) });
  }
  return found;
}

/** Make a box beside `real` (a fresh name, never an existing one) with its marker written first. */
async function makeBox(real: string, what: Pick<Marker, 'kind' | 'whole' | 'owned'>): Promise<string> {
  const marker: Marker = { format: 'tx-folder-box', version: 1, of: basename(real), ...what };
  for (;;) {
    const path = join(dirname(real), `.${basename(real)}.tx-${marker.kind === 'temp' ? 'tmp' : 'old'}-${process.pid}-${Date.now()}-${boxes++}`);
    try {
      await mkdir(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    // Not writeFileAtomic: its temp file would be one more thing to prove ours after a kill here.
    const handle = await open(join(path, MARKER), 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(marker)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return path;
  }
}

/** Boxes whose marker a kill cut short: tx's names, holding nothing or only a marker that does not parse. */
async function removeUnfinishedBoxes(real: string): Promise<void> {
  const base = basename(real);
  for (const name of await readdir(dirname(real)).catch(() => [] as string[])) {
    if (!name.startsWith(`.${base}.tx-tmp-`) && !name.startsWith(`.${base}.tx-old-`)) continue;
    const path = join(dirname(real), name);
    if (!(await lstat(path).then((s) => s.isDirectory(), () => false)) || (await readMarker(path))) continue;
    const entries = await readdir(path).catch(() => [MANIFEST]);
    if (entries.every((e) => e === MARKER)) await rm(path, { recursive: true, force: true });
  }
}

/**
 * Remove a box once `real` is in place. A temp box is tx's whole. An old box
 * whose copy was replaced whole (--force) goes whole; otherwise from its copy
 * go tx's files and the user's files already linked into `real`; a user's file
 * that `real` lacks moves there; anything else stays, with the box.
 */
async function removeBox(box: Box, real: string): Promise<void> {
  const copy = await lstat(box.copy).catch(() => null);
  if (copy !== null && box.kind === 'old' && !(await isDirectory(real))) return; // never drop what D was without a D
  if (copy === null || box.kind === 'temp' || box.marker.whole === true) {
    await rm(box.path, { recursive: true, force: true });
    return;
  }
  if (!copy.isDirectory()) return;
  if ((await sortOut(box.copy, real, new Set([...(box.marker.owned ?? []), MANIFEST]))) === 0) await rm(box.path, { recursive: true, force: true });
}

/** Empty folder `from` into `into` (see removeBox); returns how many entries had to stay. */
async function sortOut(from: string, into: string, owned: Set<string>): Promise<number> {
  let left = 0;
  for (const name of await readdir(from)) {
    const a = join(from, name);
    const b = join(into, name);
    const sa = await lstat(a);
    const sb = await lstat(b).catch(() => null);
    if ((owned.has(name) && sa.isFile()) || sameFile(sa, sb)) await unlink(a);
    else if (sb === null) await rename(a, b);
    else if (sa.isDirectory() && sb.isDirectory() && (await sortOut(a, b, new Set())) === 0) await rmdir(a);
    else left++;
  }
  return left;
}

function newest<T extends { savedAt: number }>(copies: T[]): T | undefined {
  return copies.reduce<T | undefined>((a, c) => (a === undefined || c.savedAt > a.savedAt ? c : a), undefined);
}

async function writeManifest(folder: string, names: string[], label?: string): Promise<void> {
  const files: Record<string, number> = {};
  for (const name of names) files[name] = (await stat(join(folder, name))).size;
  const manifest: Manifest = { format: 'tx-folder-manifest', version: 1, savedAt: Date.now(), ...(label === undefined ? {} : { label }), files };
  await writeFileAtomic(join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** A name that stays inside its folder: a manifest or marker naming `../x` is not tx's. */
const plainName = (n: unknown): n is string => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\\') && !n.includes('\0');

/** A small regular file parsed as JSON, or null (missing, a link, a device, too large, not JSON). */
async function readSmallJson(path: string): Promise<unknown> {
  const s = await lstat(path).catch(() => null);
  if (!s?.isFile() || s.size > 1 << 20) return null;
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

/** A folder's manifest.json when it is tx's (right format, plain names, sizes), else null. */
async function readManifest(folder: string): Promise<Manifest | null> {
  const m = (await readSmallJson(join(folder, MANIFEST))) as Manifest | null;
  if (m?.format !== 'tx-folder-manifest' || typeof m.files !== 'object' || m.files === null || Array.isArray(m.files)) return null;
  if (!Object.entries(m.files).every(([name, size]) => plainName(name) && Number.isSafeInteger(size))) return null;
  return m;
}

async function readMarker(box: string): Promise<Marker | null> {
  const m = (await readSmallJson(join(box, MARKER))) as Marker | null;
  if (m?.format !== 'tx-folder-box' || (m.kind !== 'temp' && m.kind !== 'old')) return null;
  if (m.owned !== undefined && !(Array.isArray(m.owned) && m.owned.every(plainName))) return null;
  return m;
}

/** A folder from before manifests: its config.json says it is a tx checkpoint or export. */
async function isLegacyTxFolder(folder: string): Promise<boolean> {
  const config = (await readSmallJson(join(folder, 'config.json'))) as { format?: unknown } | null;
  return config?.format === 'tx-checkpoint' || config?.format === 'tx-export';
}

async function checkManifest(folder: string, current: boolean): Promise<Omit<FolderCopy, 'path' | 'kind'>> {
  const manifest = await readManifest(folder);
  if (!manifest) {
    // No manifest: D from before manifests (complete if it has a config), or an interrupted write.
    return { complete: current && (await exists(join(folder, 'config.json'))), savedAt: 0, manifest: false };
  }
  const savedAt = Number(manifest.savedAt) || 0;
  const label = typeof manifest.label === 'string' ? { label: manifest.label } : {};
  for (const [name, size] of Object.entries(manifest.files)) {
    const s = await stat(join(folder, name)).catch(() => null);
    if (s?.size !== size) return { complete: false, savedAt, manifest: true, ...label };
  }
  return { complete: true, savedAt, manifest: true, ...label };
}

const fileError = (path: string, doing: string, err: unknown) => new CheckpointError(`${path}: ${doing} (${systemErrorReason(err)})`, { cause: err });

/** An error of a save, naming the folder the user asked for, never a box. */
function folderError(err: unknown, dir: string, hidden: Array<string | undefined>, suffix: string, doing = 'cannot write it'): TxError {
  let message = err instanceof TxError ? err.message : fileError(dir, doing, err).message;
  for (const path of hidden) if (path) message = message.replaceAll(path, dir);
  return new CheckpointError(`${message}${suffix}`, { cause: err });
}

/** Whether `path` exists (following links). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}
