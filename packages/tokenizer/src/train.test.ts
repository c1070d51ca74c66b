// The fast trainer against a slow one that is plainly minbpe's algorithm:
// recount every pair of every piece, take the most frequent (ties: smallest
// ids), replace it everywhere, repeat.
import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from './bpe.js';
import { TokenizerError } from './errors.js';
import { trainBpe } from './train.js';
import { TRICKY, tinyShakespeare } from '../test/corpus.js';

function referenceTrain(text: string, vocabSize: number, pattern: string): [number, number][] {
  let pieces = Array.from(text.matchAll(new RegExp(pattern, 'gu')), (m) => Array.from(new TextEncoder().encode(m[0])));
  const merges: [number, number][] = [];
  for (let id = 256; id < vocabSize; id++) {
    const counts = new Map<string, number>();
    for (const p of pieces) for (let i = 0; i + 1 < p.length; i++) counts.set(`${p[i]},${p[i + 1]}`, (counts.get(`${p[i]},${p[i + 1]}`) ?? 0) + 1);
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, n] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (n > bestCount || (n === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = n;
      }
    }
    if (!best) break;
    merges.push(best);
    pieces = pieces.map((p) => {
      const out: number[] = [];
      for (let i = 0; i < p.length; i++) {
        if (i + 1 < p.length && p[i] === best![0] && p[i + 1] === best![1]) {
          out.push(id);
          i++;
        } else out.push(p[i]);
      }
      return out;
    });
  }
  return merges;
}

/** minbpe's encode: repeatedly merge (everywhere) the listed pair that was learned first. */
function referenceEncode(text: string, merges: [number, number][], pattern: string): number[] {
  const rank = new Map(merges.map(([a, b], i) => [`${a},${b}`, i]));
  return Array.from(text.matchAll(new RegExp(pattern, 'gu'))).flatMap((m) => {
    let ids = Array.from(new TextEncoder().encode(m[0]));
    for (;;) {
      let best = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = rank.get(`${ids[i]},${ids[i + 1]}`);
        if (r !== undefined && (best === -1 || r < best)) best = r;
      }
      if (best === -1) return ids;
      const [a, b] = merges[best];
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          out.push(256 + best);
          i++;
        } else out.push(ids[i]);
      }
      ids = out;
    }
  });
}

const pairsOf = (tok: BpeTokenizer) => tok.toJSON().merges!.map(([a, b]) => [a, b]);

describe('BpeTokenizer.train', () => {
  it('learns what a hand count says on a tiny text', () => {
    // "aaab aaab": pieces "aaab", " aaab". (a,a) x4 -> 256; then (256,a) x2 ties (a,b) x2: smaller ids first, so (97,98) -> 257
    const spec = trainBpe('aaab aaab', { vocabSize: 259, pattern: 'gpt2' });
    expect(spec.merges).toEqual([[97, 97, 256], [97, 98, 257], [256, 257, 258]]);
  });

  it.each([
    ['gpt2', 600],
    ['cl100k', 600],
    ['[\\s\\S]+', 400],
  ])('merges equal the slow reference (pattern %s, vocab %i)', (pattern, vocabSize) => {
    const text = tinyShakespeare().slice(0, 20_000) + TRICKY.join(' ');
    const tok = BpeTokenizer.train(text, { vocabSize, pattern });
    const ref = referenceTrain(text, vocabSize, tok.pattern);
    expect(pairsOf(tok)).toEqual(ref);
    expect(tok.vocabSize).toBe(vocabSize);
    const sample = tinyShakespeare().slice(50_000, 53_000) + TRICKY.join('\n');
    const ids = tok.encode(sample);
    expect(ids).toEqual(referenceEncode(sample, ref, tok.pattern));
    expect(tok.decode(ids)).toBe(sample);
  });

  it('never merges across special tokens, and gives them the last ids', () => {
    const tok = BpeTokenizer.train('ab<|eot|>ab<|eot|>ab<|eot|>', { vocabSize: 260, pattern: '[\\s\\S]+', specialTokens: ['<|eot|>'] });
    // one piece, "ab", three times: one merge, then nothing is left (no pair spans "<|eot|>")
    expect(pairsOf(tok)).toEqual([[97, 98]]);
    expect(tok.specialTokens).toEqual({ '<|eot|>': 257 });
    expect(tok.vocabSize).toBe(258);
    expect(tok.encode('ab<|eot|>', { allowedSpecial: 'all' })).toEqual([256, 257]);
  });

  it('stops early when no pair is left', () => {
    const tok = BpeTokenizer.train('abc', { vocabSize: 1000, pattern: 'gpt2' });
    expect(pairsOf(tok)).toEqual([[97, 98], [256, 99]]);
    expect(tok.vocabSize).toBe(258);
  });

  it('refuses a vocabulary too small for the bytes and special tokens', () => {
    expect(() => trainBpe('abc', { vocabSize: 256, specialTokens: ['<s>'] })).toThrow(TokenizerError);
    expect(() => trainBpe('abc', { vocabSize: 256, specialTokens: ['<s>'] })).toThrow('expected vocabSize an integer from 257 (256 bytes + 1 special tokens)');
  });

  it('trains vocab 512 on the first 1 MB of Tiny Shakespeare (its speed is the bench\'s: pnpm --filter @tx/tokenizer bench)', () => {
    const text = tinyShakespeare().slice(0, 1_000_000);
    const tok = BpeTokenizer.train(text, { vocabSize: 512 });
    expect(tok.vocabSize).toBe(512);
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(ids.length).toBeLessThan(text.length * 0.6); // it compresses (about 1.9 bytes per token)
  });
});
