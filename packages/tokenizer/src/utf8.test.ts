import { describe, expect, it } from 'vitest';
import { utf8Encode } from './utf8.js';
import { LONE_SURROGATES, TRICKY } from '../test/corpus.js';

describe('utf8Encode', () => {
  it('writes the bytes TextEncoder writes, lone surrogates as U+FFFD', () => {
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const random = Array.from({ length: 300 }, () => String.fromCharCode(...Array.from({ length: 12 }, () => Math.floor(rand() * 0x10000))));
    for (const text of [...TRICKY, ...LONE_SURROGATES, ...random]) {
      const out = new Uint8Array(text.length * 3);
      const n = utf8Encode(text, 0, text.length, out);
      expect(Array.from(out.subarray(0, n))).toEqual(Array.from(new TextEncoder().encode(text)));
    }
    const out: number[] = [];
    expect(utf8Encode('a\ud83d', 0, 2, out)).toBe(4);
    expect(out).toEqual([0x61, 0xef, 0xbf, 0xbd]);
  });
});
