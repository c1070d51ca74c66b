// Byte-level tokenizer.json files run their model step on BpeTokenizer's
// encoder (byte-level.ts). These cases check that it is used where it should
// be, and that it gives the ids of model.ts's character-level loop (Hugging
// Face's algorithm, checked against tokenizers 0.23.2 by parity.test.ts)
// where the two could part: a pair listed twice, a byte without a token, a
// token spelled with a character outside bytes_to_unicode. Ids worked by hand.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode } from '../huggingface.js';
import { byteLevelEncoder } from './byte-level.js';
import { parseMerges } from './model.js';
import { HuggingFaceTokenizer } from './tokenizer.js';

const u = bytesToUnicode();
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

/** A byte-level tokenizer.json: the 256 bytes (id = byte value, less those dropped), then `extra` tokens from 256 on. */
function byteLevelJson(extra: string[], merges: string[], options: { drop?: string; unk?: string } = {}) {
  const vocab: Record<string, number> = {};
  u.forEach((char, byte) => {
    if (char !== options.drop) vocab[char] = byte;
  });
  extra.forEach((token, i) => (vocab[token] = 256 + i));
  return { pre_tokenizer: BYTE_LEVEL, decoder: { type: 'ByteLevel' }, model: { type: 'BPE', vocab, merges, unk_token: options.unk ?? null } };
}

describe('byte-level tokenizer.json on BpeTokenizer’s encoder', () => {
  it('is used for the byte-level fixtures (Llama 3, Qwen2, SmolLM)', () => {
    for (const name of ['llama3', 'qwen2', 'smollm']) {
      const { model } = JSON.parse(readFileSync(new URL(`../../test/fixtures/hf-${name}.json`, import.meta.url), 'utf8')).tokenizer;
      const vocab = new Map(Object.entries(model.vocab as Record<string, number>));
      expect(byteLevelEncoder(vocab, parseMerges(model.merges, vocab), model.ignore_merges === true), name).not.toBeNull();
    }
  });

  it('a pair listed twice keeps its last rank, as Hugging Face (and the character loop)', () => {
    // merges: a b (0), b c (1), a b (2): "b c" now comes first, so "abc" is a + bc, not ab + c
    const json = byteLevelJson(['ab', 'bc'], ['a b', 'b c', 'a b']);
    expect(HuggingFaceTokenizer.fromJSON(json).encode('abc')).toEqual([97, 257]);
    // the same file without a ByteLevel pre-tokenizer runs the character loop (a, b, c spell themselves)
    expect(HuggingFaceTokenizer.fromJSON({ ...json, pre_tokenizer: null }).encode('abc')).toEqual([97, 257]);
    expect(HuggingFaceTokenizer.fromJSON(byteLevelJson(['ab', 'bc'], ['a b', 'b c'])).encode('abc')).toEqual([256, 99]);
  });

  it('a byte without a token keeps the character loop: dropped without unk_token, <unk> with it', () => {
    const vocab = (json: { model: { vocab: Record<string, number>; merges: string[] } }) => new Map(Object.entries(json.model.vocab));
    const noZ = byteLevelJson(['<unk>'], [], { drop: 'z' });
    expect(byteLevelEncoder(vocab(noZ), [], false)).toBeNull();
    expect(HuggingFaceTokenizer.fromJSON(noZ).encode('azb')).toEqual([97, 98]);
    expect(HuggingFaceTokenizer.fromJSON(byteLevelJson(['<unk>'], [], { drop: 'z', unk: '<unk>' })).encode('azb')).toEqual([97, 256, 98]);
  });

  it('tokens and merges spelled outside bytes_to_unicode load and are never produced', () => {
    // "▁" is not a byte's spelling: no piece can reach "▁", "x▁" or the merge that makes it
    const json = byteLevelJson(['▁', 'x▁', 'xy'], ['x ▁', 'x y']);
    const tok = HuggingFaceTokenizer.fromJSON(json);
    expect(tok.encode('xy x▁')).toEqual([258, 32, 120, 226, 150, 129]); // "xy", " ", "x", then ▁'s bytes E2 96 81
    expect(tok.decode(tok.encode('xy x▁'))).toBe('xy x▁');
  });
});
