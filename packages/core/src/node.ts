// Node-only file helpers: kept out of the main entry so browsers never see node:fs.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { SafetensorsError } from './errors.js';
import { loadSafetensors, serializeSafetensors } from './safetensors.js';
import type { tf } from './tf.js';

/**
 * Write a file so that readers see either the old contents or the new, never
 * a half-written file: write a temporary file beside it, flush it to disk,
 * then rename it over the target (rename is atomic on POSIX file systems).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Write tensors to a safetensors file, atomically. */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, await serializeSafetensors(tensors, metadata));
}

/** Read a safetensors file; errors name the file. The tensors are the caller's to dispose. */
export async function loadSafetensorsFile(path: string): Promise<ReturnType<typeof loadSafetensors>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return loadSafetensors(bytes, path);
}
