import { describe, expect, it } from 'vitest';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { BpeTokenizer } from './bpe.js';
import { BpeModel } from './bpe-model.js';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load.js';
import { parseTiktoken } from './tiktoken.js';
import { fromBase64, toBase64 } from './utf8.js';
import { LONE_SURROGATES, TRICKY } from '../test/corpus.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const byteVocab = () => Array.from({ length: 256 }, (_, b): Uint8Array | null => Uint8Array.of(b));
const c = (ch: string) => ch.charCodeAt(0);

/** 256 bytes + "hi" (256), "hi!" (257), " h" (258), as an explicit merge list. */
function tinyMerges(pattern = 'gpt2') {
  const vocab = [...byteVocab(), bytes('hi'), bytes('hi!'), bytes(' h')];
  const merges: [number, number, number][] = [[c('h'), c('i'), 256], [256, c('!'), 257], [c(' '), c('h'), 258]];
  return new BpeTokenizer({ pattern, vocab, merges });
}

describe('BpeTokenizer, hand-worked cases', () => {
  it('merges the lowest-ranked pair first, within pieces only', () => {
    // pieces "hi" "!" " hi": "hi" -> 256; "!" -> 33; " hi": (h,i) rank 0 beats (' ',h) rank 2 -> [32, 256]
    expect(tinyMerges().encode('hi! hi')).toEqual([256, 33, 32, 256]);
    // one piece: hi ! ' ' h i -> 256 ! ' ' h i -> 256 ! ' ' 256 -> 257 ' ' 256
    expect(tinyMerges('[\\s\\S]+').encode('hi! hi')).toEqual([257, 32, 256]);
    expect(tinyMerges().decode([257, 258, 105])).toBe('hi! hi');
  });

  it("tiktoken's rule: any two tokens whose bytes join into a token merge, ranked by that token's id", () => {
    const vocab = [...byteVocab(), bytes('ab'), bytes('bc'), bytes('abc'), bytes('xa')];
    const tok = new BpeTokenizer({ pattern: '[\\s\\S]+', vocab });
    expect(tok.encode('abc')).toEqual([258]); // a piece that is a token
    expect(tok.encode('abcd')).toEqual([258, c('d')]); // ab (256), then ab+c = abc (258)
    expect(tok.encode('xabc')).toEqual([c('x'), 258]); // ab (256) before xa (259)
    expect(tok.encode('bcab')).toEqual([257, 256]);
    // with a merge list, only listed pairs merge: (ab, c) is not listed here
    const listed = new BpeTokenizer({ pattern: '[\\s\\S]+', vocab, merges: [[c('a'), c('b'), 256], [c('b'), c('c'), 257], [c('a'), 257, 258]] });
    expect(listed.encode('abcd')).toEqual([256, c('c'), c('d')]);
    expect(listed.encode('abc')).toEqual([256, c('c')]);
    const ignoring = new BpeTokenizer({ pattern: '[\\s\\S]+', vocab, merges: [[c('a'), c('b'), 256], [c('b'), c('c'), 257], [c('a'), 257, 258]], ignoreMerges: true });
    expect(ignoring.encode('abc')).toEqual([258]);
  });

  it('encodes bytes that are not text: lone surrogates become U+FFFD, never an exception', () => {
    const tok = BpeTokenizer.fromTiktoken(gpt2);
    for (const s of LONE_SURROGATES) expect(() => tok.encode(s)).not.toThrow();
    expect(tok.decode(tok.encode('a\ud800b'))).toBe('a\ufffdb');
  });

  it('decodes a cut-off character as U+FFFD', () => {
    const tok = BpeTokenizer.fromTiktoken(gpt2);
    const ids = tok.encode('😀');
    expect(ids.length).toBeGreaterThan(1);
    expect(tok.decode(ids.slice(0, 1))).toMatch(/^\ufffd+$/);
  });

  it('names ids that are not in the vocabulary, gaps included', () => {
    const tok = BpeTokenizer.fromTiktoken(cl100k);
    expect(() => tok.decode([15339, 100256])).toThrow('ids[1]: expected a token id of this vocabulary (0 to 100276, not a gap), found 100256');
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
    expect(() => tok.decode([100277])).toThrow(TokenizerError);
    expect(() => tok.textStream().push(1e9)).toThrow(TokenizerError);
    expect(tok.decode([100276])).toBe('<|endofprompt|>');
  });

  it('refuses vocabularies that are not byte-level, and bad merges, saying what was found', () => {
    const vocab = byteVocab();
    vocab[0x41] = null;
    expect(() => new BpeTokenizer({ pattern: 'gpt2', vocab })).toThrow('found none for byte 0x41');
    expect(() => new BpeTokenizer({ pattern: 'gpt2', vocab: [...byteVocab(), bytes('xy')], merges: [[c('a'), c('b'), 256]] })).toThrow(
      'merge 0: expected token 256 to be the bytes of 97 followed by 98',
    );
    expect(() => new BpeTokenizer({ pattern: 'gpt2', vocab: byteVocab(), specialTokens: { '<s>': 65 } })).toThrow('found 65, which is already a token');
    expect(() => tinyMerges().encode('x', { allowedSpecial: ['<|endoftext|>'] })).toThrow(/it has none/);
  });
});

describe('the long-piece merge (heap) equals the scan', () => {
  const models = [
    ['tiktoken rule (cl100k)', new BpeModel({ vocab: parseTiktoken(cl100k).vocab, merges: null })],
    ['merge list (trained)', (BpeTokenizer.train(TRICKY.join(' ').repeat(3) + 'the then there their', { vocabSize: 400, pattern: '[\\s\\S]+' }) as unknown as { model: BpeModel }).model],
  ] as const;
  it.each(models)('%s', (_name, model) => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const texts = [...TRICKY, ...Array.from({ length: 200 }, () => Array.from({ length: 1 + Math.floor(rand() * 80) }, () => ' etaoinshrdlu😀é\n1'[Math.floor(rand() * 16)]).join(''))];
    for (const text of texts) {
      const b = bytes(text);
      if (b.length === 0) continue;
      const scan: number[] = [];
      const heap: number[] = [];
      model.encodeBytes(b, b.length, scan, Infinity);
      model.encodeBytes(b, b.length, heap, 1);
      expect(heap, JSON.stringify(text)).toEqual(scan);
    }
  });
});

describe('streaming decoder', () => {
  const tok = BpeTokenizer.fromTiktoken(gpt2);

  it('yields only complete characters: an emoji split across byte tokens never shows U+FFFD', () => {
    for (const text of ['👨‍👩‍👧‍👦 family', '👋🏽 hi 👍🏿', '🏳️‍🌈 日本語 مرحبا', 'e\u0301 ok']) {
      const ids = tok.encode(text);
      const d = tok.textStream();
      const pieces = ids.map((id) => d.push(id));
      expect(pieces.join('') + d.flush()).toBe(text);
      for (const p of pieces) expect(p).not.toContain('\ufffd');
    }
    const ids = tok.encode('😀');
    const d = tok.textStream();
    expect(ids.map((id) => d.push(id))).toEqual([...ids.slice(1).map(() => ''), '😀']);
  });

  it('matches decode() on any id sequence, invalid UTF-8 included; flush ends a cut character with U+FFFD', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => (rand() < 0.5 ? Math.floor(rand() * 256) : Math.floor(rand() * 50257)));
      const d = tok.textStream();
      expect(ids.map((id) => d.push(id)).join('') + d.flush()).toBe(tok.decode(ids));
    }
    const d = tok.textStream();
    const [first] = tok.encode('😀');
    expect(d.push(first)).toBe('');
    expect(d.flush()).toMatch(/^\ufffd+$/);
    expect(d.push(tok.encode('a')[0])).toBe('a'); // flush resets
  });
});

describe('tiktoken sources', () => {
  it('reads .tiktoken text like the js-tiktoken rank object, and wants a pattern with it', () => {
    const { vocab } = parseTiktoken(gpt2);
    const text = vocab.map((b, rank) => `${toBase64(b!)} ${rank}`).join('\n') + '\n';
    expect(() => BpeTokenizer.fromTiktoken(text)).toThrow(/expected options.pattern/);
    const fromText = BpeTokenizer.fromTiktoken(text, { pattern: 'gpt2', specialTokens: { '<|endoftext|>': 50256 } });
    const fromObject = BpeTokenizer.fromTiktoken(gpt2);
    for (const s of TRICKY) expect(fromText.encode(s)).toEqual(fromObject.encode(s));
    expect(fromText.vocabSize).toBe(50257);
  });

  it('names the line of a malformed .tiktoken file', () => {
    expect(() => BpeTokenizer.fromTiktoken('IQ== 0\nnot-base64! 1\n', { pattern: 'gpt2' })).toThrow('line 2: expected a base64 token');
    expect(() => BpeTokenizer.fromTiktoken('IQ== 0\nIQ==\n', { pattern: 'gpt2' })).toThrow('line 2: expected "<base64> <rank>"');
    expect(() => BpeTokenizer.fromTiktoken({} as never)).toThrow(/bpe_ranks/);
  });

  it('base64 round-trips every length', () => {
    for (let n = 0; n < 10; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 200) & 255);
      expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
      expect(fromBase64(toBase64(b))).toEqual(b);
    }
    expect(fromBase64('a===')).toBeNull();
  });
});

describe('save and load', () => {
  it.each([
    ['gpt2 (tiktoken rule)', () => BpeTokenizer.fromTiktoken(gpt2)],
    ['cl100k (tiktoken rule)', () => BpeTokenizer.fromTiktoken(cl100k)],
    ['trained (merge list)', () => BpeTokenizer.train(TRICKY.join('\n'), { vocabSize: 300, pattern: 'cl100k', specialTokens: ['<|eot|>'] })],
  ])('%s round-trips through our JSON', (_name, make) => {
    const tok = make();
    const json = JSON.parse(JSON.stringify(tok));
    expect(json.kind).toBe('bpe');
    const back = loadTokenizer(json);
    expect(back).toBeInstanceOf(BpeTokenizer);
    expect(back.vocabSize).toBe(tok.vocabSize);
    expect(back.specialTokens).toEqual(tok.specialTokens);
    expect(JSON.stringify(back)).toBe(JSON.stringify(tok));
    const text = TRICKY.join(' ') + Object.keys(tok.specialTokens).join('');
    expect(back.encode(text, { allowedSpecial: 'all' })).toEqual(tok.encode(text, { allowedSpecial: 'all' }));
  });

  it('says what is wrong with a bad file', () => {
    expect(() => BpeTokenizer.fromJSON({ kind: 'bpe', version: 2 } as never)).toThrow('expected bpe tokenizer JSON version 1, found 2');
    expect(() => BpeTokenizer.fromJSON({ kind: 'bpe', version: 1, pattern: 'gpt2', vocab: ['%%'], specialTokens: {} })).toThrow('vocab[0]: expected base64 bytes or null');
    expect(() => loadTokenizer('{"kind":"wordpiece"}')).toThrow('found kind "wordpiece"');
    expect(() => loadTokenizer('{oops')).toThrow(/does not parse/);
  });
});
