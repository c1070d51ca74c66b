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
    expect(tok.decode([259, 260, 261])).toBe('hello w'); // special tokens skipped, as Hugging Face's decode
    expect(tok.decode([259, 260, 261], { skipSpecialTokens: false })).toBe('hello w<|end|>');
    expect(tok.encode('hello<|end|>')).toEqual([259, 261]); // added tokens are found by default, as in Hugging Face
    expect(tok.encode('<|end|>', { allowedSpecial: 'none' })).toEqual([60, 124, 101, 110, 100, 124, 62]);
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
    // Hugging Face's ByteLevel regex is Oniguruma's, whose \s excludes U+FEFF (JS's includes it): that one string splits differently.
    for (const s of TRICKY.filter((t) => !t.includes('\ufeff'))) expect(tok.encode(s, { allowedSpecial: 'none' }), JSON.stringify(s)).toEqual(ref.encode(s, [], []));
    expect(tok.encode('a<|endoftext|>')).toEqual([64, 50256]);
  });

  it("GPT-2's vocab.json + merges.txt load as the tokenizer.json they amount to", () => {
    const vocab = JSON.stringify({ ...tiny.model.vocab, '<|end|>': 261 });
    const merges = ['#version: 0.2', ...tiny.model.merges, ''].join('\n');
    const tok = BpeTokenizer.fromVocabAndMerges(vocab, merges, { specialTokens: ['<|end|>'] });
    expect(tok.encode('hello world<|end|>', { allowedSpecial: 'all' })).toEqual([259, 260, 111, 114, 108, 100, 261]);
    const json = gpt2TokenizerJson() as { model: { vocab: Record<string, number>; merges: string[] } };
    const fromFiles = BpeTokenizer.fromVocabAndMerges(JSON.stringify(json.model.vocab), `#version: 0.2\n${json.model.merges.join('\n')}\n`);
    expect(fromFiles.specialTokens).toEqual({ '<|endoftext|>': 50256 }); // GPT-2's, found in vocab.json
    const tricky = TRICKY.filter((t) => !t.includes('\ufeff')).join(' ');
    expect(fromFiles.encode(tricky, { allowedSpecial: 'none' })).toEqual(new Tiktoken(gpt2).encode(tricky, [], []));
    expect(() => BpeTokenizer.fromVocabAndMerges(vocab, '#version: 0.2\nh e l\n')).toThrow('merges.txt line 2: expected "left right", found "h e l"');
  });

  it('refuses what it would tokenize differently, with one line naming the component', () => {
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, normalizer: { type: 'BertNormalizer' } })).toThrow('normalizer.type: expected a supported normalizer (Sequence, Prepend, Append, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip), found "BertNormalizer"');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, pre_tokenizer: { type: 'Whitespace' } })).toThrow('pre_tokenizer.type: expected a supported pre-tokenizer (ByteLevel, Split, Metaspace, Digits, Sequence), found "Whitespace"');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, decoder: { type: 'WordPiece' } })).toThrow('decoder.type: expected a supported decoder (Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel), found "WordPiece"');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, post_processor: { type: 'BertProcessing' } })).toThrow('post_processor.type: expected a supported post-processor (TemplateProcessing, ByteLevel, Sequence), found "BertProcessing"');
    expect(() => BpeTokenizer.fromHuggingFace({ model: { type: 'Unigram', vocab: [] } })).toThrow('model.type: expected "BPE" (Unigram, WordPiece and WordLevel models are not supported), found "Unigram"');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, model: { ...tiny.model, continuing_subword_prefix: '##' } })).toThrow('model.continuing_subword_prefix: expected null or "" (subword prefixes and suffixes are not supported), found "##"');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, model: { ...tiny.model, dropout: 0.1 } })).toThrow('model.dropout: expected null (BPE dropout makes encoding random), found 0.1');
    expect(() => BpeTokenizer.fromHuggingFace({ ...tiny, truncation: { max_length: 5 } })).toThrow('truncation: expected null (truncation is not applied by @tx/tokenizer), found an object');
    const badMerge = { ...tiny, model: { ...tiny.model, merges: ['x q'] } };
    expect(() => BpeTokenizer.fromHuggingFace(badMerge)).toThrow('merges[0]: expected "x", "q" and "xq" in the vocab');
    const split = { ...tiny, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\p{L}+|\\s+' }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] } };
    expect(BpeTokenizer.fromHuggingFace(split).encode('hello world')).toEqual([259, 32, 119, 111, 114, 108, 100]); // " " and "world" split apart
  });
});
