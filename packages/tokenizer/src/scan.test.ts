// Long texts are split in windows, so no single regex match can overflow the
// regex engine's stack ("5 million emoji in a row: Maximum call stack size
// exceeded"). The windows must find the pieces one scan of the text finds.
import { describe, expect, it } from 'vitest';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { compilePattern, patternSource, splitText } from './patterns.js';
import { forEachPiece, type ScanOptions } from './scan.js';
import { LONE_SURROGATES, TRICKY, tinyShakespeare } from '../test/corpus.js';

function pieces(text: string, pattern: string, options?: ScanOptions): string[] {
  const out: string[] = [];
  forEachPiece(text, 0, text.length, compilePattern(patternSource(pattern)), (p) => out.push(p), options);
  return out;
}

describe('forEachPiece', () => {
  it.each(['gpt2', 'cl100k', 'whitespace', '\\b\\w+|(?<=\\w)\\W'])('in windows finds the pieces one scan finds (%s)', (pattern) => {
    const text = tinyShakespeare().slice(0, 30_000) + TRICKY.join(' ') + LONE_SURROGATES.join(' ');
    expect(pieces(text, pattern, { window: 2048, margin: 1024 })).toEqual(splitText(text, pattern));
    const shakespeare = tinyShakespeare().slice(0, 20_000);
    expect(pieces(shakespeare, pattern, { window: 64, margin: 16 })).toEqual(splitText(shakespeare, pattern));
  });

  it('cuts a piece longer than a window at the window, never inside a surrogate pair', () => {
    const text = 'a ' + '😀'.repeat(100) + ' b';
    const cut = pieces(text, 'gpt2', { window: 65, margin: 16 });
    expect(cut.join('')).toBe(text);
    expect(cut.length).toBeGreaterThan(splitText(text, 'gpt2').length);
    for (const p of cut) {
      expect(p.length).toBeLessThanOrEqual(65);
      expect(p).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    }
  });
});

describe('5 million emoji in a row (beyond any stack)', () => {
  const text = '😀'.repeat(5_000_000);

  it('CharTokenizer: fromText, encode, decode', () => {
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocabSize).toBe(1);
    const ids = tok.encode(text);
    expect(ids).toHaveLength(5_000_000);
    expect(tok.decode(ids)).toBe(text);
  });

  it('BpeTokenizer with the gpt2 pattern: encode, decode', () => {
    const tok = BpeTokenizer.fromTiktoken(gpt2);
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThanOrEqual(5_000_000);
    expect(tok.decode(ids)).toBe(text);
  });

  it('BpeTokenizer.train on it', () => {
    const tok = BpeTokenizer.train(text, { vocabSize: 300 });
    expect(tok.vocabSize).toBeGreaterThan(256);
    const some = '😀'.repeat(1000); // encoding all of it is the test above
    const ids = tok.encode(some);
    expect(ids.length).toBeLessThan(1000); // it learned merges across emoji
    expect(tok.decode(ids)).toBe(some);
  });
});
