import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char-tokenizer.js';

describe('CharTokenizer', () => {
  it('uses the sorted distinct characters (nanoGPT) and round-trips', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.decode(tok.encode('low') )).toBe('low');
    expect(CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok))).chars).toEqual(tok.chars);
  });

  it('drops unknown characters and names them', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(tok.encode('abzc')).toEqual([0, 1, 2]);
    expect(tok.unknown('abzzc!')).toEqual(['z', '!']);
    expect(() => CharTokenizer.fromJSON({ kind: 'bpe' })).toThrow('tokenizer.json');
  });
});
