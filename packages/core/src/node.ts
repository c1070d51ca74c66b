// Node-only file helpers: kept out of the main entry so browsers never see node:fs.
//
// A checkpoint must survive a full disk or a crash mid-save: after a failure
// the old file is still there, whole, and no temporary file is left beside it;
// the error names the file the caller asked for and the reason (ENOSPC, EACCES,
// ENOTDIR, EROFS...), not a temporary name or a bare errno.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { SafetensorsError } from './errors.js';
import { fileError } from './fs-errors.js';
import { checkFinite, decodeTensor, headerLength, parseSafetensorsHeader, serializeSafetensors, type RawTensor, type SafetensorsReadOptions, type loadSafetensors } from './safetensors.js';
import { tf } from './tf.js';

const tfTensor = (raw: RawTensor) => tf.tensor(raw.data, raw.shape, raw.dtype);

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
    await mkdir(dir, { recursive: true });
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
 * Read a safetensors file tensor by tensor: the header is checked against the
 * file's size first (nothing is read past it if anything is wrong), then each
 * tensor's bytes are read into a buffer of their own and handed to the
 * backend, so a 500 MB file never sits in memory whole, let alone twice.
 * Errors name the file; the tensors are the caller's to dispose.
 */
export async function loadSafetensorsFile(path: string, options: LoadFileOptions = {}): Promise<ReturnType<typeof loadSafetensors>> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const tensors: Record<string, tf.Tensor> = Object.create(null);
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new SafetensorsError(`${path}: file is ${size} bytes, shorter than the 8-byte header length`);
    const read = async (position: number, length: number) => {
      const bytes = new Uint8Array(length);
      const { bytesRead } = await handle.read(bytes, 0, length, position);
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
      done += span.end - span.begin;
      options.onProgress?.(done, total);
    }
    return { tensors, metadata };
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  } finally {
    await handle.close();
  }
}
