// Every file tx reads whole goes through here: @tx/core's readFileWithin opens
// only regular files (a FIFO never blocks, /dev/zero is never read) and checks
// the size against a limit for the kind of file before reading a byte.
import { TxError } from '@tx/core';
import { readTextFileWithin, type ReadWithinOptions } from '@tx/core/node';
import { corpusLimit } from './budget.js';

/** The most a file may hold, and what it is, for the message ("allowed for a config file"): @tx/core's read options. */
export type ReadLimit = ReadWithinOptions;

/** A --config file, a model's or checkpoint's config.json (CONFIG_LIMIT); tokenizer.json, vocab.json, merges.txt, tx-tokenizer.json (TOKENIZER_LIMIT). */
export { CONFIG_LIMIT, TOKENIZER_LIMIT } from '@tx/core/node';

/** A corpus: as much text as this machine can tokenize (budget.ts, corpusLimit), with the reason in the message. */
export function corpusReadLimit(): ReadLimit {
  const limit = corpusLimit();
  return { maxBytes: limit.bytes, kind: `a corpus (${limit.reason})` };
}

/**
 * Read a UTF-8 file named by a flag (a corpus unless `limit` says otherwise);
 * a failure is one line naming the flag, the path and the reason:
 * `--data big.txt: 400.0 MB, more than the 100.0 MB allowed for a corpus (...)`,
 * `--dir hf/config.json (a link to /dev/zero): a character device, not a regular file; ...`.
 */
export async function readTextFile(path: string, flag: string, limit: ReadLimit = corpusReadLimit()): Promise<string> {
  try {
    return await readTextFileWithin(path, limit);
  } catch (err) {
    throw new TxError(`${flag} ${(err as Error).message}`, { cause: err });
  }
}
