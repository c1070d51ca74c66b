import { readFile } from 'node:fs/promises';
import { TxError } from '@tx/core';

/** Read a UTF-8 file named by a flag; a failure names the flag, the path and the reason (ENOENT, EACCES, ...). */
export async function readTextFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new TxError(`${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
