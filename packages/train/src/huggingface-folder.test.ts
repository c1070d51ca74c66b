// A model folder's text files as loadModel and `tx import hf` read them: what
// is missing is undefined, what is there is read whole and parsed, and a file
// that is not one (a FIFO) or not JSON is one line naming it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFolderJson, readFolderText, readHuggingFaceTokenizers } from './huggingface-folder.js';

describe('reading a model folder', () => {
  it('reads the tokenizer files that are there; vocab.json only with merges.txt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-hf-'));
    expect(await readHuggingFaceTokenizers(dir)).toEqual({ tokenizerJson: undefined, txTokenizer: undefined });
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE"}}');
    writeFileSync(join(dir, 'vocab.json'), '{"a": 0}');
    expect(await readHuggingFaceTokenizers(dir)).toEqual({ tokenizerJson: { model: { type: 'BPE' } }, txTokenizer: undefined });
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
    expect(await readHuggingFaceTokenizers(dir)).toEqual({ tokenizerJson: { model: { type: 'BPE' } }, txTokenizer: undefined, vocabJson: '{"a": 0}', mergesTxt: '#version: 0.2\n' });
    expect(await readFolderText(dir, 'config.json')).toBeNull();
    expect(await readFolderJson(dir, 'config.json')).toBeUndefined();
  });

  it('a FIFO and a file that is not JSON are one line naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tx-hf-'));
    writeFileSync(join(dir, 'config.json'), '{"n_layer": ');
    await expect(readFolderJson(dir, 'config.json')).rejects.toThrow(new RegExp(`^${join(dir, 'config.json')}: not valid JSON \\(.+\\)$`));
    execFileSync('mkfifo', [join(dir, 'tx-tokenizer.json')]);
    await expect(readHuggingFaceTokenizers(dir)).rejects.toThrow(`${join(dir, 'tx-tokenizer.json')}: a FIFO (named pipe), not a regular file; tx reads only regular files`);
  });
});
