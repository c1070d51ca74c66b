import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char.js';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load.js';
import { tinyShakespeare } from '../test/corpus.js';

describe('CharTokenizer', () => {
  it('uses the sorted distinct characters, like nanoGPT', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.chars.join('')).toBe(' dehlorw');
    expect(tok.vocabSize).toBe(8);
    expect(tok.encode('hello')).toEqual([3, 2, 4, 4, 5]);
    expect(tok.decode([7, 5, 6, 4, 1])).toBe('world');
  });

  it('has 65 symbols on Tiny Shakespeare and round-trips it', () => {
    const text = tinyShakespeare();
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocabSize).toBe(65);
    expect(tok.chars.slice(0, 3)).toEqual(['\n', ' ', '!']);
    const ids = tok.encode(text);
    expect(ids).toHaveLength(1_115_394);
    expect(tok.decode(ids)).toBe(text);
  });

  it('counts code points, so an emoji is one character and a surrogate pair is never cut', () => {
    const tok = CharTokenizer.fromText('a😀é\u0301');
    expect(tok.chars).toEqual(['a', 'é', '\u0301', '😀']);
    expect(tok.encode('😀a😀')).toEqual([3, 0, 3]);
    expect(tok.decode([3, 1, 2])).toBe('😀é\u0301');
  });

  it('names an unknown character with its offset, line and column', () => {
    const tok = CharTokenizer.fromText('abc\n');
    expect(() => tok.encode('abc\nab\u00e9')).toThrow(TokenizerError);
    expect(() => tok.encode('abc\nab\u00e9')).toThrow('found "é" (U+00E9) at offset 6 (line 2, column 3)');
    expect(() => tok.encode('a😀')).toThrow('"😀" (U+1F600) at offset 1');
  });

  it('maps unknown characters to unk when configured', () => {
    const tok = CharTokenizer.fromText('ab', { unk: '<unk>' });
    expect(tok.vocabSize).toBe(3);
    expect(tok.specialTokens).toEqual({ '<unk>': 2 });
    expect(tok.encode('axb😀')).toEqual([0, 2, 1, 2]);
    expect(tok.decode([0, 2])).toBe('a<unk>');
  });

  it('gives special tokens the ids after the characters, and matches them only when allowed', () => {
    const tok = CharTokenizer.fromText('<|end|><|pad|>a', { specialTokens: ['<|end|>', '<|pad|>'] });
    expect(tok.chars.join('')).toBe('<>adenp|');
    expect(tok.specialTokens).toEqual({ '<|end|>': 8, '<|pad|>': 9 });
    expect(tok.encode('a<|end|>', { allowedSpecial: 'all' })).toEqual([2, 8]);
    expect(tok.encode('a<|pad|>', { allowedSpecial: ['<|end|>'] })).toEqual([2, 0, 7, 6, 2, 3, 7, 1]);
    expect(tok.decode([8, 2, 9])).toBe('<|end|>a<|pad|>');
    expect(tok.encode('a<|end|>')).toHaveLength(8); // plain text by default
    expect(() => tok.encode('a', { allowedSpecial: ['<|nope|>'] })).toThrow(/found "<\|nope\|>"/);
  });

  it('rejects ids outside the vocabulary, naming position and id', () => {
    const tok = CharTokenizer.fromText('ab');
    expect(() => tok.decode([0, 2])).toThrow('ids[1]: expected a token id from 0 to 1, found 2');
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
    expect(() => tok.decode([0.5])).toThrow(TokenizerError);
  });

  it('round-trips through JSON, and loads the { kind, chars } form checkpoints write', () => {
    const tok = CharTokenizer.fromText('héllo 😀\n', { specialTokens: ['<|eot|>'], unk: '<unk>' });
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    expect(json).toEqual({ kind: 'char', version: 1, chars: '\n hloé😀', specialTokens: ['<|eot|>', '<unk>'], unk: '<unk>' });
    const back = loadTokenizer(json);
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.encode('hé?', { allowedSpecial: 'all' })).toEqual(tok.encode('hé?'));
    expect(back.vocabSize).toBe(tok.vocabSize);
    const plain = CharTokenizer.fromJSON({ kind: 'char', chars: 'abcdef' });
    expect(plain.encode('fab')).toEqual([5, 0, 1]);
  });

  it('keeps a lone surrogate as a character of its own', () => {
    const tok = CharTokenizer.fromText('a\ud800');
    expect(tok.decode(tok.encode('\ud800a'))).toBe('\ud800a');
  });

  it('streams: each id is whole characters', () => {
    const tok = CharTokenizer.fromText('a😀');
    const d = tok.textStream();
    expect([d.push(1), d.push(0), d.flush()]).toEqual(['😀', 'a', '']);
  });
});
