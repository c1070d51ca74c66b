import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { BpeTokenizer } from './bpe.js';
import { bytesToUnicode } from './huggingface.js';
import { loadTokenizer } from './load.js';
import { parseTiktoken } from './tiktoken.js';
import { TRICKY, tinyShakespeare } from '../test/corpus.js';

// test/fixtures/tiny-hf-tokenizer.json: the 256 byte tokens (id = byte value,
// spelled with GPT-2's bytes_to_unicode), merges "h e" (256), "l l" (257),
// "he ll" (258), "hell o" (259), "Ġ w" (260), and the added token <|end|> (261).
const tiny = JSON.parse(readFileSync(new URL('../test/fixtures/tiny-hf-tokenizer.json', import.meta.url), 'utf8'));

/**
 * GPT-2's tokenizer.json rebuilt from its tiktoken ranks: each token's merge is
 * the last step of BPE on its own bytes using only lower ranks (how tiktoken's
 * own converter recovers vocab.bpe).
 */
function gpt2TokenizerJson() {
  const { vocab } = parseTiktoken(gpt2);
  const u = bytesToUnicode();
  const spell = (b: Uint8Array) => Array.from(b, (x) => u[x]).join('');
  const rankOf = new Map(vocab.map((b, id) => [spell(b!), id]));
  const merges: string[] = [];
  vocab.forEach((b, id) => {
    if (b!.length < 2) return;
    let parts = Array.from(b!, (x) => u[x]);
    while (parts.length > 2) {
      let best = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rankOf.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < id && (best === -1 || r < rankOf.get(parts[best] + parts[best + 1])!)) best = i;
      }
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    merges.push(parts.join(' '));
  });
  const hfVocab = Object.fromEntries([...rankOf, ['<|endoftext|>', 50256]]);
  return {
    added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab: hfVocab, merges, continuing_subword_prefix: '', end_of_word_suffix: '' },
  };
}

describe('Hugging Face tokenizer.json', () => {
  it('loads a hand-made byte-level BPE and encodes as worked by hand', () => {
    const tok = BpeTokenizer.fromHuggingFace(tiny);
    // "hello": h e l l o -> he l l o -> he ll o -> hell o -> hello; " world": Ġ w -> Ġw, the rest bytes
    expect(tok.encode('hello world<|end|>', { allowedSpecial: 'all' })).toEqual([259, 260, 111, 114, 108, 100, 261]);
    expect(tok.decode([259, 260, 261])).toBe('hello w<|end|>');
    expect(tok.vocabSize).toBe(262);
    expect(loadTokenizer(JSON.stringify(tiny)).encode('hello')).toEqual([259]);
    const back = loadTokenizer(JSON.parse(JSON.stringify(tok)));
    expect(back.encode('hello world hell')).toEqual(tok.encode('hello world hell'));
  });

  it('reads merges written as [left, right] pairs (newer files) the same', () => {
    const pairs = { ...tiny, model: { ...tiny.model, merges: tiny.model.merges.map((m: string) => m.split(' ')) } };
    expect(BpeTokenizer.fromHuggingFace(pairs).encode('hello world')).toEqual([259, 260, 111, 114, 108, 100]);
  });

  it('GPT-2 rebuilt as tokenizer.json encodes Tiny Shakespeare and the tricky strings like js-tiktoken', () => {
    const tok = BpeTokenizer.fromHuggingFace(gpt2TokenizerJson());
    const ref = new Tiktoken(gpt2);
    const text = tinyShakespeare();
    expect(tok.encode(text)).toEqual(ref.encode(text));
    for (const s of TRICKY) expect(tok.encode(s), JSON.stringify(s)).toEqual(ref.encode(s, [], []));
    expect(tok.encode('a<|endoftext|>', { allowedSpecial: 'all' })).toEqual([64, 50256]);
  });

  it("GPT-2's vocab.json + merges.txt load as the tokenizer.json they amount to", () => {
    const vocab = JSON.stringify({ ...tiny.model.vocab, '<|end|>': 261 });
    const merges = ['#version: 0.2', ...tiny.model.merges, ''].join('\n');
    const tok = BpeTokenizer.fromVocabAndMerges(vocab, merges, { specialTokens: ['<|end|>'] });
    expect(tok.encode('hello world<|end|>', { allowedSpecial: 'all' })).toEqual([259, 260, 111, 114, 108, 100, 261]);
    const json = gpt2TokenizerJson() as { model: { vocab: Record<string, number>; merges: string[] } };
    const fromFiles = BpeTokenizer.fromVocabAndMerges(JSON.stringify(json.model.vocab), `#version: 0.2\n${json.model.merges.join('\n')}\n`);
    expect(fromFiles.specialTokens).toEqual({ '<|endoftext|>': 50256 }); // GPT-2's, found in vocab.json
    expect(fromFiles.encode(TRICKY.join(' '))).toEqual(new Tiktoken(gpt2).encode(TRICKY.join(' '), [], []));
    expect(() => BpeTokenizer.fromVocabAndMerges(vocab, '#version: 0.2\nh e l\n')).toThrow('merges.txt line 2: expected "left right", found "h e l"');
  });

  it('refuses what it would tokenize differently, saying what it found', () => {
    const withPrefix = { ...tiny, pre_tokenizer: { ...tiny.pre_tokenizer, add_prefix_space: true } };
    expect(() => BpeTokenizer.fromHuggingFace(withPrefix)).toThrow('add_prefix_space false, found true');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, normalizer: { type: 'NFC' } })).toThrow('found normalizer "NFC"');
    expect(() => BpeTokenizer.fromHuggingFace({ model: { type: 'WordPiece' } })).toThrow('found model.type "WordPiece"');
    const badMerge = { ...tiny, model: { ...tiny.model, merges: ['x q'] } };
    expect(() => BpeTokenizer.fromHuggingFace(badMerge)).toThrow('merges[0]: expected "x", "q" and "xq" in the vocab');
    const split = { ...tiny, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\p{L}+|\\s+' }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] } };
    expect(BpeTokenizer.fromHuggingFace(split).pattern).toBe('\\p{L}+|\\s+');
  });
});
