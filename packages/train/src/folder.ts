// Replacing a folder (a checkpoint, an export) so that no crash loses it.
//
// The new folder is written in full beside the old one, as `.D.tmp-<pid>-<n>`,
// every file flushed to disk, and then a manifest (manifest.json: each file and
// its size) is written last. A folder whose manifest lists files that are all
// there, at their sizes, is complete; one without is not. Then:
//   1. D -> D.old       (D is complete here: recovery made sure of it)
//   2. temp -> D
//   3. remove D.old
// A reader takes D when it is complete, else the newest complete copy among
// D.old and the temp folders. A writer first recovers: it promotes that copy
// to D and removes every older or incomplete copy (stale temp folders from
// crashes and full disks included). So whatever step two crashes in a row hit,
// the newest complete copy is still found, and nothing piles up.
//
// One writer per folder at a time: a second writer's recovery would remove the
// first one's temp folder (the first then fails on its rename; D is untouched).
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TxError } from '@tx/core';
import { fsyncDirectory, writeFileAtomic } from '@tx/core/node';

/** A checkpoint folder is missing, damaged, or not one to replace. */
export class CheckpointError extends TxError {}

/** The file replaceFolder writes last in a folder: a copy that has it is complete. */
export const MANIFEST = 'manifest.json';

/** A step of replaceFolder, reported to `onStep` (fault-injection tests stop the writer there). */
export type SwapStep = 'recovered' | 'files-written' | 'manifest-written' | 'moved-old' | 'moved-new' | 'removed-old';

/** Options of replaceFolder. */
export interface ReplaceFolderOptions {
  /** Replace `dir` even when it holds files that were not written by replaceFolder (default false). */
  overwrite?: boolean;
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
}

let writes = 0;

/**
 * Replace folder `dir` with what `write(temp)` puts in a fresh folder. The old
 * contents stay readable until the new ones are complete and on disk.
 */
export async function replaceFolder(dir: string, write: (temp: string) => Promise<void>, options: ReplaceFolderOptions = {}): Promise<void> {
  const step = async (name: SwapStep) => options.onStep?.(name);
  if (!options.overwrite) await checkReplaceable(dir);
  await recoverFolder(dir);
  await step('recovered');

  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}-${writes++}`);
  await mkdir(temp, { recursive: true });
  try {
    await write(temp);
    await step('files-written');
    await writeManifest(temp);
    await fsyncDirectory(temp);
  } catch (err) {
    // A failed write (a full disk, a bad path) leaves nothing behind; D is untouched.
    await rm(temp, { recursive: true, force: true });
    const message = err instanceof Error ? err.message.replaceAll(temp, dir) : String(err); // name the folder the user asked for
    throw new CheckpointError(`${message}; ${dir} was left as it was`, { cause: err });
  }
  await step('manifest-written');

  const old = `${dir}.old`;
  if (await exists(dir)) {
    await rm(old, { recursive: true, force: true }); // recovery left D complete: D.old is older
    await rename(dir, old);
    await step('moved-old');
  }
  await rename(temp, dir);
  await fsyncDirectory(dirname(dir));
  await step('moved-new');
  await rm(old, { recursive: true, force: true });
  await step('removed-old');
}

/** Refuse to replace a file, or a folder of someone else's files: only our own folders are replaced. */
async function checkReplaceable(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => null);
  if (s === null) return;
  if (!s.isDirectory()) throw new CheckpointError(`${dir} is a file, not a checkpoint folder: refusing to replace it`);
  const names = await readdir(dir);
  if (names.length > 0 && !names.includes(MANIFEST) && !names.includes('config.json')) {
    throw new CheckpointError(`${dir} holds ${names.length} file${names.length === 1 ? '' : 's'} that tx did not write (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}): refusing to replace it`);
  }
}

/** Every copy of `dir` on disk: the folder itself, `dir.old`, and temp folders of interrupted writes. */
export async function listCopies(dir: string): Promise<FolderCopy[]> {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.tmp-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  const paths: Array<[string, FolderCopy['kind']]> = [[dir, 'current'], [`${dir}.old`, 'old'], ...names.filter((n) => n.startsWith(prefix)).map((n) => [join(parent, n), 'temp'] as [string, FolderCopy['kind']])];
  const copies: FolderCopy[] = [];
  for (const [path, kind] of paths) {
    if (!(await isDirectory(path))) continue;
    copies.push({ path, kind, ...(await checkManifest(path)) });
  }
  return copies;
}

/**
 * The copy a reader should open: `dir` when complete, else the newest complete
 * copy, else `dir` as it is (so that its own error names what is wrong), else null.
 * A folder written before manifests existed counts as complete when it has no other copy.
 */
export async function findCompleteCopy(dir: string): Promise<FolderCopy | null> {
  const copies = await listCopies(dir);
  const current = copies.find((c) => c.kind === 'current');
  if (current?.complete) return current;
  return newest(copies.filter((c) => c.complete)) ?? current ?? null;
}

/** Make `dir` the newest complete copy, and remove every other copy. Safe to crash at any point. */
export async function recoverFolder(dir: string): Promise<void> {
  const copies = await listCopies(dir);
  const current = copies.find((c) => c.kind === 'current');
  const best = newest(copies.filter((c) => c.complete && c.kind !== 'current'));
  if (best && !current?.complete) {
    if (current) await rm(current.path, { recursive: true, force: true });
    await rename(best.path, dir);
    await fsyncDirectory(dirname(dir));
  }
  for (const c of copies) {
    if (c.kind !== 'current') await rm(c.path, { recursive: true, force: true }); // the promoted one has moved already
  }
}

function newest(copies: FolderCopy[]): FolderCopy | undefined {
  return copies.reduce<FolderCopy | undefined>((a, c) => (a === undefined || c.savedAt > a.savedAt ? c : a), undefined);
}

interface Manifest {
  format: 'tx-folder-manifest';
  version: 1;
  savedAt: number;
  files: Record<string, number>;
}

async function writeManifest(folder: string): Promise<void> {
  const files: Record<string, number> = {};
  for (const name of (await readdir(folder)).sort()) files[name] = (await stat(join(folder, name))).size;
  const manifest: Manifest = { format: 'tx-folder-manifest', version: 1, savedAt: Date.now(), files };
  await writeFileAtomic(join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

async function checkManifest(folder: string): Promise<{ complete: boolean; savedAt: number }> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(folder, MANIFEST), 'utf8'));
  } catch {
    // No manifest: a folder from before manifests (complete if it has a config), or an interrupted write.
    const legacy = basename(folder).startsWith('.') ? false : await exists(join(folder, 'config.json'));
    return { complete: legacy, savedAt: 0 };
  }
  if (manifest?.format !== 'tx-folder-manifest' || typeof manifest.files !== 'object' || manifest.files === null) return { complete: false, savedAt: 0 };
  for (const [name, size] of Object.entries(manifest.files)) {
    const s = await stat(join(folder, name)).catch(() => null);
    if (s?.size !== size) return { complete: false, savedAt: Number(manifest.savedAt) || 0 };
  }
  return { complete: true, savedAt: Number(manifest.savedAt) || 0 };
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}
