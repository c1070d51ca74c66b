// HuggingFaceTokenizer's behaviour one case at a time, on the Llama 2 style
// fixture (sentencepiece BPE, byte_fallback, <unk> <s> </s>, a <s> template)
// and the Llama 3 one. Ids quoted from Hugging Face were printed by
// tokenizers 0.23.2 on the same files; byte tokens are UTF-8 worked by hand.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TokenizerError } from '../errors.js';
import { loadTokenizer } from '../load.js';
import { BpeTokenizer } from '../bpe.js';
import { HuggingFaceTokenizer } from './tokenizer.js';
import { LONE_SURROGATES, TRICKY } from '../../test/corpus.js';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../test/fixtures/hf-${name}.json`, import.meta.url), 'utf8'));
const llama2 = read('llama2-metaspace');
const llama3 = read('llama3');
const tok = HuggingFaceTokenizer.fromJSON(llama2.tokenizer);
const tokens = (ids: number[]) => ids.map((id) => tok.idToToken(id));

describe('HuggingFaceTokenizer (Llama 2 style)', () => {
  it('falls back to UTF-8 byte tokens for an emoji and an accent it lacks', () => {
    // 👋 is U+1F44B: F0 9F 91 8B; ŵ is U+0175: C5 B5; é was learned as a token.
    expect(tokens(tok.encode('👋'))).toEqual(['<s>', '▁', '<0xF0>', '<0x9F>', '<0x91>', '<0x8B>']);
    expect(tokens(tok.encode('café ŵ'))).toEqual(['<s>', '▁ca', 'f', 'é', '▁', '<0xC5>', '<0xB5>']);
    expect(tok.encode('café ŵ')).toEqual([1, 588, 311, 337, 341, 200, 184]); // Hugging Face's ids
    expect(tok.decode(tok.encode('café ŵ 👋'))).toBe('café ŵ 👋');
  });

  it('streams an emoji of four byte tokens as one character, never U+FFFD', () => {
    const stream = tok.textStream();
    expect([1, 341, 243, 162, 148, 142].map((id) => stream.push(id))).toEqual(['', '', '', '', '', '👋']);
    expect(stream.flush()).toBe('');
    const words = tok.textStream();
    const ids = tok.encode('Hi 👋 there');
    expect(ids.map((id) => words.push(id)).join('') + words.flush()).toBe('Hi 👋 there');
  });

  it('without byte_fallback, unknown characters are <unk>, fused into one with fuse_unk (as Hugging Face)', () => {
    const unk = (fuse: boolean) => HuggingFaceTokenizer.fromJSON({ ...llama2.tokenizer, model: { ...llama2.tokenizer.model, byte_fallback: false, fuse_unk: fuse } });
    expect(unk(true).encode('👋👋 xŵ')).toEqual([1, 341, 0, 341, 329, 0]);
    expect(unk(false).encode('👋👋 xŵ')).toEqual([1, 341, 0, 0, 341, 329, 0]);
    expect(unk(true).decode([1, 341, 0, 341, 329, 0])).toBe(' x'); // <unk> is special: skipped
  });

  it('adds <s> unless addSpecialTokens is false; finds added tokens unless allowedSpecial says otherwise', () => {
    expect(tok.encode('<s>hi</s>')).toEqual([1, 1, 478, 2]); // Hugging Face's ids
    expect(tok.encode('<s>hi</s>', { addSpecialTokens: false })).toEqual([1, 478, 2]);
    const asText = tok.encode('<s>hi</s>', { addSpecialTokens: false, allowedSpecial: 'none' });
    expect(asText).not.toContain(1);
    expect(asText).not.toContain(2);
    expect(tok.decode(asText)).toBe('<s>hi</s>');
    expect(tok.encode('<s>hi</s>', { addSpecialTokens: false, allowedSpecial: ['</s>'] }).at(-1)).toBe(2);
    expect(tok.encode('say <sep>', { allowedSpecial: 'none' })).toContain(tok.tokenToId('<sep>')); // not special: always found
    expect(() => tok.encode('x', { allowedSpecial: ['<|endoftext|>'] })).toThrow('expected allowedSpecial to name special tokens of this tokenizer ("<unk>", "<s>", "</s>", "<lstrip>"), found "<|endoftext|>"');
  });

  it('cuts long words before "▁" only when no token could join across the cut', () => {
    // "a▁" is a token, merged first: "▁a▁b" must merge to ▁ a▁ b, not be cut into "▁a" "▁b"
    const vocab = { '<unk>': 0, '▁': 1, a: 2, b: 3, 'a▁': 4, '▁b': 5 };
    const model = { type: 'BPE', vocab, merges: ['a ▁', '▁ b'], unk_token: '<unk>' };
    const normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
    expect(HuggingFaceTokenizer.fromJSON({ model, normalizer }).encode('a b')).toEqual([1, 4, 3]);
    const { 'a▁': _, ...safe } = vocab;
    expect(HuggingFaceTokenizer.fromJSON({ model: { ...model, vocab: safe, merges: ['▁ b'] }, normalizer }).encode('a b')).toEqual([1, 2, 5]);
  });

  it('merges a long word with the heap (mergeByHeap) to the ids the scan gives', () => {
    type Merges = { tokenizeWord(word: string): number[]; mergeScan(ids: number[]): number[]; mergeHeap(ids: number[]): number[]; vocab: Map<string, number> };
    const model = (tok as unknown as { model: Merges }).model;
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const chars = [...'▁▁▁etaoinshrdlué'];
    for (let k = 0; k < 100; k++) {
      const symbols = Array.from({ length: 2 + Math.floor(rand() * 150) }, () => model.vocab.get(chars[Math.floor(rand() * chars.length)])!);
      expect(model.mergeHeap(symbols.slice()), JSON.stringify(symbols)).toEqual(model.mergeScan(symbols.slice()));
    }
    // A word of 300 symbols goes to the heap, and still merges (▁the is one token).
    expect(tokens(model.tokenizeWord('▁the'.repeat(75)))).toEqual(Array(75).fill('▁the'));
  });

  it('knows its special tokens, vocabulary size and token strings', () => {
    expect(tok.specialTokens).toEqual({ '<unk>': 0, '<s>': 1, '</s>': 2, '<lstrip>': 859 });
    expect(tok.vocabSize).toBe(861);
    expect(tok.kind).toBe('bpe');
    expect([tok.idToToken(3), tok.idToToken(258), tok.tokenToId('<0x41>'), tok.idToToken(100000)]).toEqual(['<0x00>', '<0xFF>', 68, undefined]);
    expect(() => tok.decode([1, 100000])).toThrow('ids[1]: expected a token id of this vocabulary (0 to 860, not a gap), found 100000');
  });

  it('round-trips every fixture text that Hugging Face round-trips', () => {
    const texts = (llama2.cases as { text: string; decoded: string }[]).filter((c) => c.decoded === c.text).map((c) => c.text);
    expect(texts.length).toBeGreaterThan(40);
    for (const text of texts) expect(tok.decode(tok.encode(text)), JSON.stringify(text)).toBe(text);
  });

  it('is what loadTokenizer and BpeTokenizer.fromHuggingFace return, and saves the tokenizer.json it read', () => {
    const text = JSON.stringify(llama2.tokenizer);
    expect(loadTokenizer(text)).toBeInstanceOf(HuggingFaceTokenizer);
    expect(BpeTokenizer.fromHuggingFace(text).toJSON()).toEqual(llama2.tokenizer);
  });
});

describe('HuggingFaceTokenizer (Llama 3 style)', () => {
  const l3 = HuggingFaceTokenizer.fromJSON(llama3.tokenizer);
  it('adds <|begin_of_text|>, and decodes with or without it', () => {
    const ids = l3.encode('Hello world');
    expect(ids[0]).toBe(l3.specialTokens['<|begin_of_text|>']);
    expect(l3.decode(ids)).toBe('Hello world');
    expect(l3.decode(ids, { skipSpecialTokens: false })).toBe('<|begin_of_text|>Hello world');
    expect(l3.encodePair('a', 'b')).toEqual([0, ...l3.encode('a', { addSpecialTokens: false }), 0, ...l3.encode('b', { addSpecialTokens: false })]);
  });
});

describe('every style, on the tricky strings of the GPT-2 tests', () => {
  const styles = ['llama2-metaspace', 'llama2-normalizer', 'llama3', 'qwen2', 'smollm'].map((name) => [name, HuggingFaceTokenizer.fromJSON(read(name).tokenizer)] as const);

  it.each(styles)('%s: byte-level styles round-trip every one, and a stream concatenates to decode without U+FFFD', (name, t) => {
    for (const text of TRICKY) {
      const ids = t.encode(text, { allowedSpecial: 'none' });
      // NFC (Qwen2) composes "e\u0301"; Metaspace's leading "▁" and Strip lose leading spaces, as in Hugging Face
      if (!name.startsWith('llama2') && !(name === 'qwen2' && text.normalize('NFC') !== text)) expect(t.decode(ids), JSON.stringify(text)).toBe(text);
      const stream = t.textStream();
      const parts = ids.map((id) => stream.push(id));
      expect(parts.join('') + stream.flush(), JSON.stringify(text)).toBe(t.decode(ids));
      if (!text.includes('\ufffd')) expect(parts.some((p) => p.includes('\ufffd')), JSON.stringify(text)).toBe(false);
    }
  });

  it.each(styles)('%s: a lone surrogate is encoded as U+FFFD, never thrown on', (name, t) => {
    const wellFormed = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text)); // lone surrogates -> U+FFFD
    for (const text of LONE_SURROGATES) {
      const decoded = t.decode(t.encode(text));
      if (name.startsWith('llama2')) expect(decoded).toContain('\ufffd'); // leading spaces go as in Hugging Face
      else expect(decoded, JSON.stringify(text)).toBe(wellFormed(text));
    }
  });
});

describe('a bad tokenizer.json is one line naming the field', () => {
  const base = llama2.tokenizer;
  const model = base.model;
  const cases: [string, object, string][] = [
    ['model: 5', { ...base, model: 5 }, 'model: expected an object, found 5'],
    ['model.type', { ...base, model: { ...model, type: 'Unigram' } }, 'model.type: expected "BPE" (Unigram, WordPiece and WordLevel models are not supported), found "Unigram"'],
    ['model.byte_fallback', { ...base, model: { ...model, byte_fallback: 'yes' } }, 'model.byte_fallback: expected true or false, found "yes"'],
    ['model.unk_token', { ...base, model: { ...model, unk_token: '<nope>' } }, 'model.unk_token: expected a token of model.vocab, found "<nope>", which is not'],
    ['model.vocab id', { ...base, model: { ...model, vocab: { ...model.vocab, a: 1e9 } } }, 'model.vocab["a"]: expected an integer id from 0 to 66399, found 1000000000'],
    ['model.merges entry', { ...base, model: { ...model, merges: [5] } }, 'model.merges[0]: expected "left right" or [left, right], found 5'],
    ['normalizer type', { ...base, normalizer: { type: 'BertNormalizer' } }, 'normalizer.type: expected a supported normalizer (Sequence, Prepend, Append, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip), found "BertNormalizer"'],
    ['normalizer field', { ...base, normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: 5 }] } }, 'normalizer.normalizers[0].prepend: expected a string, found 5'],
    ['pre_tokenizer type', { ...base, pre_tokenizer: { type: 'Whitespace' } }, 'pre_tokenizer.type: expected a supported pre-tokenizer (ByteLevel, Split, Metaspace, Digits, Sequence), found "Whitespace"'],
    ['Metaspace prepend_scheme', { ...base, pre_tokenizer: { ...base.pre_tokenizer, prepend_scheme: 'sometimes' } }, 'pre_tokenizer.prepend_scheme: expected "first", "always" or "never", found "sometimes"'],
    ['Split behavior', { ...base, pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'Sideways' } }, 'pre_tokenizer.behavior: expected one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous, found "Sideways"'],
    ['ByteLevel not last', { ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'ByteLevel' }, { type: 'Digits' }] } }, 'pre_tokenizer.pretokenizers[0]: expected ByteLevel to be the last pre-tokenizer, found "Digits" after it'],
    ['added token id', { ...base, added_tokens: [{ id: 1e9, content: '<x>' }] }, 'added_tokens[0].id: expected an integer id from 0 to 66392, found 1000000000'],
    ['added token flag', { ...base, added_tokens: [{ id: 1, content: '<s>', lstrip: 1 }] }, 'added_tokens[0].lstrip: expected true or false, found 1'],
    ['added token content', { ...base, added_tokens: [{ id: 1, content: '' }] }, 'added_tokens[0].content: expected a non-empty string, found ""'],
    ['template token', { ...base, post_processor: { ...base.post_processor, single: [{ SpecialToken: { id: '<x>', type_id: 0 } }] } }, 'post_processor.single[0].SpecialToken.id: expected a token of special_tokens (<s>), found "<x>"'],
    ['post_processor type', { ...base, post_processor: { type: 'RobertaProcessing' } }, 'post_processor.type: expected a supported post-processor (TemplateProcessing, ByteLevel, Sequence), found "RobertaProcessing"'],
    ['decoder Strip', { ...base, decoder: { type: 'Strip', content: ' ', start: -1, stop: 0 } }, 'decoder.start: expected a count (an integer from 0), found -1'],
    ['decoder type', { ...base, decoder: { type: 'CTC' } }, 'decoder.type: expected a supported decoder (Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel), found "CTC"'],
    ['padding', { ...base, padding: { strategy: 'BatchLongest' } }, 'padding: expected null (padding is not applied by @tx/tokenizer), found an object'],
  ];
  it.each(cases)('%s', (_, json, message) => {
    let error: unknown = null;
    try {
      HuggingFaceTokenizer.fromJSON(json);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('a Split regex JS cannot run the same way is refused with its reason', () => {
    const split = (Regex: string) => ({ ...base, pre_tokenizer: { type: 'Split', pattern: { Regex }, behavior: 'Isolated', invert: false } });
    expect(() => HuggingFaceTokenizer.fromJSON(split('[^\\S]+'))).toThrow('pre_tokenizer.pattern: pattern "[^\\\\S]+" has \\S inside a character class, which cannot be rewritten for JS');
    expect(() => HuggingFaceTokenizer.fromJSON(split('(?i:a+)'))).toThrow('pre_tokenizer.pattern: pattern "(?i:a+)" has a (?i:...) group that is not a list of literal words');
    expect(() => HuggingFaceTokenizer.fromJSON(split('\\p{L}++'))).toThrow(/possessive quantifiers/);
  });
});
