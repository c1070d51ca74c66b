// Node-only file helpers: kept out of the main entry so browsers never see node:fs.
//
// A checkpoint must survive a full disk or a crash mid-save: after a failure
// the old file is still there, whole, and no temporary file is left beside it;
// the error names the file the caller asked for and the reason (ENOSPC, EACCES,
// ENOTDIR, EROFS...), not a temporary name or a bare errno.
//
// Reading trusts nothing either: every file is opened through openRegularFile,
// which reads only regular files (a FIFO would block forever, /dev/zero or
// /dev/urandom never end, a folder fails with a bare EISDIR) and whose callers
// check the size against a limit for the kind of file before reading a byte.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { SafetensorsError, TxError } from './errors.js';
import { fileError } from './fs-errors.js';
import { checkFinite, decodeTensor, headerLength, parseSafetensorsHeader, serializeSafetensors, type RawTensor, type SafetensorsReadOptions, type loadSafetensors } from './safetensors.js';
import { tf } from './tf.js';

export { systemErrorReason } from './fs-errors.js';

const tfTensor = (raw: RawTensor) => tf.tensor(raw.data, raw.shape, raw.dtype);

/**
 * Create folder `dir` and its missing parents, each mkdir tried once. Node's
 * `mkdir(dir, { recursive: true })` loops forever where a folder both exists
 * and refuses children (`/proc/self/x`: ENOENT, then EEXIST on the parent,
 * then ENOENT again); here that is one error, the system's (ENOENT).
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = dir; !(await stat(p).then(() => true, () => false)); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  // EEXIST: made meanwhile, or a file is there (what comes next says ENOTDIR).
  for (const p of missing.reverse()) await mkdir(p).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
}

/**
 * Write a file so that readers, and a machine that crashes, see either the old
 * contents or the new, never a half-written file: write a temporary file
 * beside it, fsync it (else the rename can reach the disk before the data),
 * rename it over the target (atomic on POSIX file systems), then fsync the
 * folder (else the rename itself can be lost). On failure the temporary file
 * is removed and a TxError says `${path}: cannot write it (ENOSPC: no space
 * left on device)`, with the system error as its cause.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  try {
    await makeFolder(dir);
  } catch (err) {
    // EEXIST: a file is where the folder should be; opening the temporary
    // file below then fails with the clearer ENOTDIR.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(path, `cannot create its folder ${dir}`, err);
  }
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    const closing = handle;
    handle = undefined;
    await closing.close();
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw fileError(path, 'cannot write it', err);
  }
  await fsyncDirectory(dir);
}

/**
 * Where a folder cannot be opened or fsynced, the platform offers no such
 * guarantee (Windows: EISDIR, EPERM; some network and FUSE file systems:
 * EINVAL; a folder one may write but not list: EACCES). Nothing to do there.
 */
const NO_DIRECTORY_FSYNC = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES']);

/**
 * Flush a folder's entries to disk, so that a file created or renamed in it
 * survives a crash. A no-op where the platform cannot do it; any other failure
 * is a TxError `${path}: cannot flush the folder to disk (EIO: i/o error)`.
 */
export async function fsyncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !NO_DIRECTORY_FSYNC.has(code)) throw fileError(path, 'cannot flush the folder to disk', err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

const MiB = 1024 * 1024;

/**
 * The most bytes tx reads whole from each kind of file, checked (with fstat)
 * before reading. A config.json is a few kB; tokenizer files run to tens of MB
 * (GPT-2's tokenizer.json is 1.4 MB, Gemma's about 33 MB). A safetensors
 * file is read tensor by tensor; only its JSON header is read whole, up to
 * MAX_HEADER_BYTES.
 */
export const READ_LIMITS = {
  /** A model's or checkpoint's config.json, a settings file. */
  config: 16 * MiB,
  /** tokenizer.json, vocab.json, merges.txt. */
  tokenizer: 256 * MiB,
} as const;

/** readFileWithin's options for a config.json or settings file: at most READ_LIMITS.config, "allowed for a config file". */
export const CONFIG_LIMIT: Readonly<ReadWithinOptions> = Object.freeze({ maxBytes: READ_LIMITS.config, kind: 'a config file' });

/** readFileWithin's options for tokenizer.json, vocab.json or merges.txt: at most READ_LIMITS.tokenizer, "allowed for a tokenizer file". */
export const TOKENIZER_LIMIT: Readonly<ReadWithinOptions> = Object.freeze({ maxBytes: READ_LIMITS.tokenizer, kind: 'a tokenizer file' });

/** What a path is, in words, for messages: "a folder", "a regular file", "a FIFO (named pipe)", "a character device"... */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFile()) return 'a regular file';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'a special file';
}

/** `${path}: ...` with " (a link to /dev/zero)" where path is a symbolic link, so the user sees what was really there. */
async function nonRegularError(path: string, s: Stats): Promise<TxError> {
  const link = await lstat(path).then((l) => (l.isSymbolicLink() ? realpath(path).catch(() => null) : null), () => null);
  return new TxError(`${path}${link ? ` (a link to ${link})` : ''}: ${fileKind(s)}, not a regular file; tx reads only regular files`);
}

/**
 * Open a file for reading only if it is a regular file: it is stat-ed first
 * (a FIFO is never opened, so nothing blocks; a device is never touched), then
 * opened non-blocking (a FIFO put there in between still cannot block) and
 * fstat-ed, so the size returned is that of the file actually open. Errors
 * are one line naming the path: `runs/x/config.json (a link to /dev/zero): a
 * character device, not a regular file; tx reads only regular files`, or
 * `${path}: cannot read it (ENOENT: no such file or directory)`. Close the handle.
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  let before: Stats;
  try {
    before = await stat(path);
  } catch (err) {
    throw fileError(path, 'cannot read it', err);
  }
  if (!before.isFile()) throw await nonRegularError(path, before);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw fileError(path, 'cannot read it', err);
  }
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw await nonRegularError(path, s);
    return { handle, size: s.size };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err instanceof TxError ? err : fileError(path, 'cannot read it', err);
  }
}

/** Options of readFileWithin. */
export interface ReadWithinOptions {
  /** The most bytes the file may hold (see READ_LIMITS). */
  maxBytes: number;
  /** What the file is, for the message ("more than the 16.0 MB allowed for a config file"). */
  kind: string;
}

/**
 * A regular file's bytes (openRegularFile), refused in one line before any is
 * read when it holds more than `maxBytes`: `tok.json: 1.2 GB, more than the
 * 256.0 MB allowed for a tokenizer file`. A file that grows while it is read is
 * read only up to the size fstat gave.
 */
export async function readFileWithin(path: string, { maxBytes, kind }: ReadWithinOptions): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) throw new TxError(`${path}: ${formatSize(size)}, more than the ${formatSize(maxBytes)} allowed for ${kind}`);
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) throw new TxError(`${path}: the file shrank while it was read (${done} of ${size} bytes)`);
      done += bytesRead;
    }
    return bytes;
  } catch (err) {
    throw err instanceof TxError ? err : fileError(path, 'cannot read it', err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readFileWithin, decoded as UTF-8 as readFile(path, 'utf8') does (a byte-order mark is kept, invalid bytes become U+FFFD). */
export async function readTextFileWithin(path: string, options: ReadWithinOptions): Promise<string> {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await readFileWithin(path, options));
}

/** "512 bytes", "16.0 MB", "1.2 GB" (binary units, as the limits are). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < MiB) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 * MiB) return `${(bytes / MiB).toFixed(1)} MB`;
  return `${(bytes / (1024 * MiB)).toFixed(1)} GB`;
}

/** Write tensors to a safetensors file, atomically (see writeFileAtomic for the errors). */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, await serializeSafetensors(tensors, metadata));
}

/** Options of loadSafetensorsFile: the finite check and a progress callback. */
export interface LoadFileOptions extends SafetensorsReadOptions {
  /** Called after each tensor with the data bytes read so far and in all (a progress bar for big models). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/**
 * Read a safetensors file tensor by tensor: only a regular file is opened
 * (openRegularFile: a FIFO or a folder is one line naming it), the header is
 * checked against the file's size first (nothing is read past it if anything
 * is wrong), then each tensor's bytes are read into a buffer of their own and
 * handed to the backend, so a 500 MB file never sits in memory whole, let
 * alone twice. Errors name the file; the tensors are the caller's to dispose.
 * `dtypes` gives each tensor's dtype in the file (F16, U8...), which the
 * tensors themselves no longer tell (floats are widened to float32, integers to int32).
 */
export async function loadSafetensorsFile(path: string, options: LoadFileOptions = {}): Promise<ReturnType<typeof loadSafetensors> & { dtypes: Record<string, string> }> {
  let opened: { handle: FileHandle; size: number };
  try {
    opened = await openRegularFile(path);
  } catch (err) {
    throw new SafetensorsError((err as Error).message, { cause: err });
  }
  const { handle, size } = opened;
  const tensors: Record<string, tf.Tensor> = Object.create(null);
  const dtypes: Record<string, string> = Object.create(null);
  try {
    if (size < 8) throw new SafetensorsError(`${path}: file is ${size} bytes, shorter than the 8-byte header length`);
    const read = async (position: number, length: number) => {
      const bytes = new Uint8Array(length);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(bytes, 0, length, position));
      } catch (err) {
        throw new SafetensorsError(fileError(path, 'cannot read it', err).message, { cause: err });
      }
      if (bytesRead !== length) throw new SafetensorsError(`${path}: the file changed while it was read (${bytesRead} of ${length} bytes at ${position})`);
      return bytes;
    };
    const n = headerLength(await read(0, 8), size - 8, path);
    const { spans, metadata } = parseSafetensorsHeader(await read(8, n), size - 8 - n, path);
    const total = size - 8 - n;
    let done = 0;
    for (const span of spans) {
      const raw = decodeTensor(await read(8 + n + span.begin, span.end - span.begin), span.dtype, span.shape, { owned: true });
      if (options.requireFinite) checkFinite({ [span.name]: raw }, path);
      tensors[span.name] = tfTensor(raw);
      dtypes[span.name] = span.dtype;
      done += span.end - span.begin;
      options.onProgress?.(done, total);
    }
    return { tensors, metadata, dtypes };
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  } finally {
    await handle.close();
  }
}
