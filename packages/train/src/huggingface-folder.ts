// The text files of a model folder (config.json and the tokenizer's files),
// read as every file a user hands over is: only a regular file, within its
// kind's limit (@tx/core's readTextFileWithin: a FIFO never blocks,
// /dev/urandom is never read), its JSON parsed with the file named. loadModel
// and the trainer's `tx import hf` read Hugging Face folders through here, and
// their weights through huggingface-shards.ts.
import { join } from 'node:path';
import { parseJson } from '@tx/core';
import { CONFIG_LIMIT, TOKENIZER_LIMIT, readTextFileWithin } from '@tx/core/node';
import type { HuggingFaceFiles } from './huggingface.js';

/**
 * The text of file `name` in folder `dir`, or null where there is none:
 * config.json within @tx/core's CONFIG_LIMIT, any other within TOKENIZER_LIMIT.
 * Anything else is a TxError naming the file (`${path}: a FIFO (named pipe), not a regular file; ...`).
 */
export async function readFolderText(dir: string, name: string): Promise<string | null> {
  try {
    return await readTextFileWithin(join(dir, name), name === 'config.json' ? CONFIG_LIMIT : TOKENIZER_LIMIT);
  } catch (err) {
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    throw err;
  }
}

/** readFolderText, parsed (`${path}: not valid JSON (...)` otherwise); undefined where the file is not there. */
export async function readFolderJson(dir: string, name: string): Promise<unknown> {
  const text = await readFolderText(dir, name);
  return text === null ? undefined : parseJson(text, join(dir, name));
}

/** The tokenizer files that folder `dir` holds: tokenizer.json, tx-tokenizer.json, and vocab.json with merges.txt (read only as a pair). */
export async function readHuggingFaceTokenizers(dir: string): Promise<Pick<HuggingFaceFiles, 'tokenizerJson' | 'txTokenizer' | 'vocabJson' | 'mergesTxt'>> {
  const files: Pick<HuggingFaceFiles, 'tokenizerJson' | 'txTokenizer' | 'vocabJson' | 'mergesTxt'> = {
    tokenizerJson: await readFolderJson(dir, 'tokenizer.json'),
    txTokenizer: await readFolderJson(dir, 'tx-tokenizer.json'),
  };
  const [vocab, merges] = [await readFolderText(dir, 'vocab.json'), await readFolderText(dir, 'merges.txt')];
  if (vocab !== null && merges !== null) Object.assign(files, { vocabJson: vocab, mergesTxt: merges });
  return files;
}
