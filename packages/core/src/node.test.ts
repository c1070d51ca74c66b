import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { TxError } from './errors.js';
import { fileError, systemErrorReason } from './fs-errors.js';
import { CONFIG_LIMIT, READ_LIMITS, TOKENIZER_LIMIT, fsyncDirectory, loadSafetensorsFile, readFileWithin, readTextFileWithin, saveSafetensorsFile, writeFileAtomic } from './node.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

/** The rejection of a promise, which must be a TxError. */
async function failure(promise: Promise<unknown>): Promise<TxError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TxError);
  return err as TxError;
}

describe('writeFileAtomic', () => {
  it('replaces the file and leaves nothing beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-atomic-'));
    const path = join(dir, 'sub', 'config.json');
    await writeFileAtomic(path, 'old');
    await writeFileAtomic(path, new TextEncoder().encode('new'));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['config.json']);
  });

  it('names the file and the reason when its folder is a regular file (ENOTDIR)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-atomic-'));
    writeFileSync(join(dir, 'runs'), 'a file, not a folder');
    const path = join(dir, 'runs', 'model.safetensors');
    expect((await failure(writeFileAtomic(path, 'x'))).message).toBe(`${path}: cannot write it (ENOTDIR: not a directory)`);
    const deeper = join(dir, 'runs', 'x', 'model.safetensors');
    const err = await failure(writeFileAtomic(deeper, 'x'));
    expect(err.message).toBe(`${deeper}: cannot create its folder ${join(dir, 'runs', 'x')} (ENOTDIR: not a directory)`);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');

    const t = tf.tensor1d([1]);
    expect((await failure(saveSafetensorsFile(path, { t }))).message).toBe(`${path}: cannot write it (ENOTDIR: not a directory)`);
    t.dispose();
    expect(readdirSync(dir)).toEqual(['runs']);
  });

  it('a folder that cannot be created is one error, not a loop (/proc/self/x)', async () => {
    expect((await failure(writeFileAtomic('/proc/self/x/y.json', 'x'))).message).toBe('/proc/self/x/y.json: cannot create its folder /proc/self/x (ENOENT: no such file or directory)');
  });

  it('removes the temporary file when the rename fails (EISDIR)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-atomic-'));
    const path = join(dir, 'model.safetensors');
    mkdirSync(join(path, 'inside'), { recursive: true });
    expect((await failure(writeFileAtomic(path, 'x'))).message).toBe(`${path}: cannot write it (EISDIR: illegal operation on a directory)`);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readdirSync(path)).toEqual(['inside']);
  });
});

describe('fsyncDirectory', () => {
  it('flushes a folder, and names a folder it cannot open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-fsync-'));
    await fsyncDirectory(dir);
    const missing = join(dir, 'missing');
    expect((await failure(fsyncDirectory(missing))).message).toBe(`${missing}: cannot flush the folder to disk (ENOENT: no such file or directory)`);
  });
});

describe('file error messages', () => {
  it.skipIf(!existsSync('/dev/full'))('keep the code and its meaning, drop the syscall (ENOSPC from /dev/full)', async () => {
    const err = await writeFile('/dev/full', 'abc').then(() => undefined, (e: unknown) => e);
    expect(systemErrorReason(err)).toBe('ENOSPC: no space left on device');
    const mapped = fileError('runs/x/model.safetensors', 'cannot write it', err);
    expect(mapped).toBeInstanceOf(TxError);
    expect(mapped.message).toBe('runs/x/model.safetensors: cannot write it (ENOSPC: no space left on device)');
    expect(mapped.cause).toBe(err);
  });

  it('handle errors that are not system errors', () => {
    expect(systemErrorReason(new Error('disk on fire'))).toBe('disk on fire');
    expect(systemErrorReason(Object.assign(new Error('odd'), { code: 'EODD' }))).toBe('EODD: odd');
    expect(systemErrorReason('text')).toBe('text');
  });
});

describe('loadSafetensorsFile', () => {
  it('reads tensor by tensor: the same values, progress after each tensor, and nothing left behind on a bad tensor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-load-'));
    const path = join(dir, 'w.safetensors');
    const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const b = tf.tensor1d([7, Number.NaN, 9]);
    await saveSafetensorsFile(path, { a, b });
    const progress: Array<[number, number]> = [];
    const { tensors } = await loadSafetensorsFile(path, { onProgress: (done, total) => progress.push([done, total]) });
    expect(await tensors.a.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(await tensors.b.data())).toEqual([7, Number.NaN, 9]);
    expect(progress).toEqual([[24, 36], [36, 36]]); // keys are written sorted: a (24 bytes), then b
    tf.dispose([a, b, ...Object.values(tensors)]);

    const before = tf.memory().numTensors;
    await expect(loadSafetensorsFile(path, { requireFinite: true })).rejects.toThrow(`${path}: b has 1 NaN value`);
    expect(tf.memory().numTensors).toBe(before); // "a" was made, then disposed
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([0])]));
    await expect(loadSafetensorsFile(path)).rejects.toThrow(`${path}: 1 trailing data bytes belong to no tensor`);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('reading only regular files, within a size limit', () => {
  const config = CONFIG_LIMIT;

  it('has a limit per kind of file: 16 MB for a config file, 256 MB for a tokenizer file', () => {
    expect(CONFIG_LIMIT).toEqual({ maxBytes: 16 * 1024 * 1024, kind: 'a config file' });
    expect(TOKENIZER_LIMIT).toEqual({ maxBytes: 256 * 1024 * 1024, kind: 'a tokenizer file' });
    expect([READ_LIMITS.config, READ_LIMITS.tokenizer]).toEqual([CONFIG_LIMIT.maxBytes, TOKENIZER_LIMIT.maxBytes]);
  });

  it('refuses a FIFO without blocking, a folder, and links to /dev/zero and /dev/urandom, in one line naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-read-'));
    const fifo = join(dir, 'model.safetensors');
    execFileSync('mkfifo', [fifo]); // no writer ever opens it: a blocking open would hang here
    expect((await failure(readFileWithin(fifo, config))).message).toBe(`${fifo}: a FIFO (named pipe), not a regular file; tx reads only regular files`);
    expect((await failure(loadSafetensorsFile(fifo))).message).toBe(`${fifo}: a FIFO (named pipe), not a regular file; tx reads only regular files`);

    const folder = join(dir, 'weights.safetensors');
    mkdirSync(folder);
    expect((await failure(loadSafetensorsFile(folder))).message).toBe(`${folder}: a folder, not a regular file; tx reads only regular files`);

    const zero = join(dir, 'config.json');
    symlinkSync('/dev/zero', zero);
    expect((await failure(readTextFileWithin(zero, config))).message).toBe(`${zero} (a link to /dev/zero): a character device, not a regular file; tx reads only regular files`);
    const random = join(dir, 'tokenizer.json');
    symlinkSync('/dev/urandom', random);
    expect((await failure(readFileWithin(random, TOKENIZER_LIMIT))).message).toBe(
      `${random} (a link to /dev/urandom): a character device, not a regular file; tx reads only regular files`,
    );
    const missing = join(dir, 'missing.json');
    expect((await failure(readFileWithin(missing, config))).message).toBe(`${missing}: cannot read it (ENOENT: no such file or directory)`);
  });

  it('refuses a file over the limit before reading it (a sparse file: no disk used)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-read-'));
    const big = join(dir, 'config.json');
    writeFileSync(big, '');
    truncateSync(big, 16 * 1024 * 1024); // exactly the limit: read (16 MiB of zeros, all a hole)
    expect((await readFileWithin(big, config)).length).toBe(16 * 1024 * 1024);
    truncateSync(big, 17 * 1024 * 1024);
    expect((await failure(readFileWithin(big, config))).message).toBe(`${big}: 17.0 MB, more than the 16.0 MB allowed for a config file`);
    truncateSync(big, 643 * 1024 * 1024);
    expect((await failure(readFileWithin(big, config))).message).toBe(`${big}: 643.0 MB, more than the 16.0 MB allowed for a config file`);
    const small = join(dir, 'small.json');
    writeFileSync(small, '\ufeff{"a": "é"}');
    expect(await readTextFileWithin(small, config)).toBe('\ufeff{"a": "é"}'); // as readFile(path, 'utf8') reads it, the mark kept
    expect(await readFileWithin(small, { maxBytes: 15, kind: 'x' })).toEqual(new Uint8Array(readFileSync(small)));
  });
});
