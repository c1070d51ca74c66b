// A tokenizer file is data: whatever is wrong with it, loading it is one
// TokenizerError naming the field, never a TypeError or RangeError from deep
// inside, and never an allocation the file did not pay for.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load.js';
import type { Tokenizer } from './tokenizer.js';
import { toBase64 } from './utf8.js';

const tiny = JSON.parse(readFileSync(new URL('../test/fixtures/tiny-hf-tokenizer.json', import.meta.url), 'utf8'));

/** A valid bpe JSON: 256 byte tokens, "ab" (256) by one merge, <s> (257); `change` replaces fields. */
const bpe = (change: Record<string, unknown>) => ({
  kind: 'bpe',
  version: 1,
  pattern: 'gpt2',
  vocab: [...Array.from({ length: 256 }, (_, b) => toBase64(Uint8Array.of(b))), toBase64(new TextEncoder().encode('ab'))],
  merges: [[97, 98, 256]],
  specialTokens: { '<s>': 257 },
  ...change,
});
const char = (change: Record<string, unknown>) => ({ kind: 'char', version: 1, chars: 'abc', specialTokens: ['<s>'], unk: null, ...change });
const hf = (model: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({ ...tiny, ...rest, model: { ...tiny.model, ...model } });

function thrown(load: () => unknown): unknown {
  try {
    load();
  } catch (err) {
    return err;
  }
  return null;
}

describe('malformed tokenizer JSON', () => {
  it('the valid files the cases start from load', () => {
    expect(loadTokenizer(bpe({})).encode('ab<s>', { allowedSpecial: 'all' })).toEqual([256, 257]);
    expect(loadTokenizer(char({})).vocabSize).toBe(4);
    expect(loadTokenizer(hf({})).vocabSize).toBe(262);
  });

  it.each([
    ['bpe merges: 5', bpe({ merges: 5 }), 'merges: expected an array, found 5'],
    ['bpe vocab: 5', bpe({ vocab: 5 }), 'vocab: expected an array, found 5'],
    ['bpe vocab entry of the wrong type', bpe({ vocab: [5] }), 'vocab[0]: expected base64 bytes or null, found 5'],
    ['bpe pattern: 5', bpe({ pattern: 5 }), 'pattern: expected a regex source string, found 5'],
    ['bpe merge of two ids', bpe({ merges: [[97, 98]] }), 'merges[0]: expected [left, right, merged] ids, found an array of 2'],
    ['bpe merge naming id 1e9', bpe({ merges: [[97, 98, 1e9]] }), 'merges[0][2]: expected an integer id from 0 to 256, found 1000000000'],
    ['bpe merge of strings', bpe({ merges: [['97', 98, 256]] }), 'merges[0][0]: expected an integer id from 0 to 256, found "97"'],
    ['bpe ignoreMerges: "yes"', bpe({ ignoreMerges: 'yes' }), 'ignoreMerges: expected true or false, found "yes"'],
    ['bpe specialTokens: 5', bpe({ specialTokens: 5 }), 'specialTokens: expected an object, found 5'],
    ['bpe special id 1e300', bpe({ specialTokens: { '<s>': 1e300 } }), 'special token "<s>": expected an integer id from 0 to 65792, found 1e+300'],
    ['bpe special id 2.5', bpe({ specialTokens: { '<s>': 2.5 } }), 'special token "<s>": expected an integer id from 0 to 65792, found 2.5'],
    ['bpe special id -1', bpe({ specialTokens: { '<s>': -1 } }), 'special token "<s>": expected an integer id from 0 to 65792, found -1'],
    ['bpe special id "257"', bpe({ specialTokens: { '<s>': '257' } }), 'special token "<s>": expected an integer id from 0 to 65792, found "257"'],
    ['bpe special id of a token', bpe({ specialTokens: { '<s>': 97 } }), 'special token "<s>": expected an id no ordinary token uses, found 97, which is already a token'],
    ['bpe special ids shared', bpe({ specialTokens: { '<s>': 257, '</s>': 257 } }), 'special token "</s>": expected its own id, found 257, shared with another special token'],
    ['char chars: 5', char({ chars: 5 }), "chars: expected a string of the vocabulary's characters, found 5"],
    ['char chars as an array', char({ chars: ['a', 'b'] }), "chars: expected a string of the vocabulary's characters, found an array of 2"],
    ['char special token 1', char({ specialTokens: [1] }), 'specialTokens[0]: expected a non-empty string, found 1'],
    ['char specialTokens: "abc"', char({ specialTokens: 'abc' }), 'specialTokens: expected an array, found "abc"'],
    ['char unk: 5', char({ unk: 5 }), 'unk: expected a non-empty string, found 5'],
    ['char version 2', char({ version: 2 }), 'expected char tokenizer JSON version 1, found 2'],
    ['hf vocab: 5', hf({ vocab: 5 }), 'model.vocab: expected an object, found 5'],
    ['hf merges: 5', hf({ merges: 5 }), 'model.merges: expected an array, found 5'],
    ['hf vocab id "x"', hf({ vocab: { ...tiny.model.vocab, a: 'x' } }), 'model.vocab["a"]: expected an integer id from 0 to 65798, found "x"'],
    ['hf vocab id 1e9', hf({ vocab: { ...tiny.model.vocab, a: 1e9 } }), 'model.vocab["a"]: expected an integer id from 0 to 65798, found 1000000000'],
    ['hf merge 5', hf({ merges: [5] }), 'model.merges[0]: expected "left right" or [left, right], found 5'],
    ['hf added token id 1e300', hf({}, { added_tokens: [{ id: 1e300, content: '<|end|>' }] }), 'added_tokens[0].id: expected an integer id from 0 to 65798, found 1e+300'],
    ['hf added token without content', hf({}, { added_tokens: [{ id: 261 }] }), 'added_tokens[0].content: expected a non-empty string, found undefined'],
    ['hf pre-tokenizer null in a sequence', hf({}, { pre_tokenizer: { type: 'Sequence', pretokenizers: [null] } }), 'pre_tokenizer.pretokenizers[0]: expected an object, found null'],
    ['hf pre-tokenizers: 5', hf({}, { pre_tokenizer: { type: 'Sequence', pretokenizers: 5 } }), 'pre_tokenizer.pretokenizers: expected an array, found 5'],
    ['not JSON', '{"kind": "bpe", ', /^expected tokenizer JSON text, found text that does not parse/],
  ])('%s', (_name, json, message) => {
    const err = thrown(() => loadTokenizer(json));
    expect(err).toBeInstanceOf(TokenizerError);
    if (typeof message === 'string') expect((err as Error).message).toBe(message);
    else expect((err as Error).message).toMatch(message);
  });

  it('the fromJSON of each kind says so too, for text that does not parse', () => {
    expect(thrown(() => BpeTokenizer.fromJSON('{'))).toBeInstanceOf(TokenizerError);
    expect(thrown(() => CharTokenizer.fromJSON('{'))).toBeInstanceOf(TokenizerError);
    expect(thrown(() => BpeTokenizer.fromHuggingFace('{'))).toBeInstanceOf(TokenizerError);
  });

  it('a .tiktoken rank far past the tokens given is refused before anything is allocated', () => {
    const err = thrown(() => BpeTokenizer.fromTiktoken('IQ== 0\nIg== 1000000000\n', { pattern: 'gpt2' }));
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as Error).message).toBe('tiktoken ranks, line 2: expected a rank from 0 to 65537 (at most 65536 past the 2 tokens), found 1000000000');
  });

  it('a token named like an Object.prototype property is just a token', () => {
    const tok = CharTokenizer.fromJSON(char({ specialTokens: ['__proto__', 'constructor'] }) as never);
    expect(Object.keys(tok.specialTokens)).toEqual(['__proto__', 'constructor']);
    expect(tok.encode('a__proto__', { allowedSpecial: 'all' })).toEqual([0, 3]);
  });
});

describe('vocabSize', () => {
  const sources: [string, () => Tokenizer][] = [
    ['char with specials', () => CharTokenizer.fromText('hello', { specialTokens: ['<s>'], unk: '<unk>' })],
    ['trained bpe with specials', () => BpeTokenizer.train('the cat sat on the mat', { vocabSize: 270, specialTokens: ['<a>', '<b>'] })],
    ['gpt2 ranks', () => BpeTokenizer.fromTiktoken(gpt2)],
    ['cl100k ranks (a gap before the specials)', () => BpeTokenizer.fromTiktoken(cl100k)],
    ['Hugging Face tokenizer.json', () => BpeTokenizer.fromHuggingFace(tiny)],
    ['our JSON with a special token past a gap', () => loadTokenizer(bpe({ specialTokens: { '<s>': 300 } }))],
  ];

  it.each(sources)('is one more than the largest id any token, special ones included, can have (%s)', (_name, make) => {
    const tok = make();
    for (const id of Object.values(tok.specialTokens)) expect(id).toBeLessThan(tok.vocabSize);
    expect(() => tok.decode([tok.vocabSize - 1])).not.toThrow();
    expect(thrown(() => tok.decode([tok.vocabSize]))).toBeInstanceOf(TokenizerError);
    for (const id of tok.encode('hello <s> world 😀 mat', { allowedSpecial: 'all' })) expect(id).toBeLessThan(tok.vocabSize);
  });
});
