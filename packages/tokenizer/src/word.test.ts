import { describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { loadTokenizer } from './load.js';
import { WordTokenizer } from './word.js';

const SENTENCE = "The animal didn't cross the street because it was too tired.";

describe('WordTokenizer', () => {
  it("splits the explainer's sentence into 12 tokens: words, one with its apostrophe, and the full stop", () => {
    const tok = WordTokenizer.fromText(SENTENCE);
    expect(tok.split(SENTENCE).map((p) => p.word)).toEqual(['the', 'animal', "didn't", 'cross', 'the', 'street', 'because', 'it', 'was', 'too', 'tired', '.']);
    // "the" twice, so 11 words; the order is frequency, then code point order ("." < letters).
    expect(tok.words).toEqual(['the', '.', 'animal', 'because', 'cross', "didn't", 'it', 'street', 'tired', 'too', 'was']);
    expect(tok.vocabSize).toBe(11);
    expect(tok.encode(SENTENCE)).toEqual([0, 2, 5, 4, 0, 7, 3, 6, 10, 9, 8, 1]);
    expect(tok.decode(tok.encode(SENTENCE))).toBe("the animal didn't cross the street because it was too tired.");
  });

  it('gives special tokens the first ids: padding and unknown words', () => {
    const tok = WordTokenizer.fromText(SENTENCE, { specialTokens: ['<pad>', '<unk>'], pad: '<pad>', unk: '<unk>' });
    expect(tok.specialTokens).toEqual({ '<pad>': 0, '<unk>': 1 });
    expect(tok.vocabSize).toBe(13);
    const ids = tok.encode('The zebra was tired');
    expect(ids).toEqual([2, 1, 12, 10]);
    expect(tok.decode(ids)).toBe('the <unk> was tired');
    expect(tok.unknownWords('The zebra and the Zebra, tired')).toEqual(['zebra', 'and', ',']);
    // pad and unk given alone are appended in that order
    const alone = WordTokenizer.fromText('a b', { unk: '<unk>', pad: '<pad>' });
    expect(alone.specialTokens).toEqual({ '<pad>': 0, '<unk>': 1 });
  });

  it('names an unknown word with its offset, line and column when there is no unk', () => {
    const tok = WordTokenizer.fromText(SENTENCE);
    expect(() => tok.encode('the animal\nwas sleepy')).toThrow(TokenizerError);
    expect(() => tok.encode('the animal\nwas sleepy')).toThrow('found "sleepy" at offset 15 (line 2, column 5)');
  });

  it('lowercases and reads ’ as \' by default; keeps case when asked', () => {
    const tok = WordTokenizer.fromText("It DIDN'T");
    expect(tok.encode('it didn’t')).toEqual(tok.encode("IT didn't"));
    const cased = WordTokenizer.fromText('The the', { lowercase: false });
    expect(cased.words).toEqual(['The', 'the']);
    expect(cased.encode('the The')).toEqual([1, 0]);
    expect(() => new WordTokenizer(['The'])).toThrow('words[0]: expected one word or one punctuation mark, found "The" (it reads as "the": words are lowercased)');
  });

  it('keeps letters of any script, digits and combining marks in words; each other symbol is a token', () => {
    const tok = WordTokenizer.fromText('café naïve 42nd (x) — ok?!', { lowercase: false });
    expect(tok.split('café naïve 42nd (x) — ok?!').map((p) => p.word)).toEqual(['café', 'naïve', '42nd', '(', 'x', ')', '—', 'ok', '?', '!']);
    expect(tok.split('e\u0301t\u00e9')[0].word).toBe('e\u0301t\u00e9'); // a combining accent stays in its word
    expect(tok.decode(tok.encode('(x) ok?!'))).toBe('(x) ok?!');
  });

  it('counts words for the vocabulary: maxWords keeps the most frequent, minCount drops the rare', () => {
    const text = 'b a a c c c d';
    expect(WordTokenizer.fromText(text).words).toEqual(['c', 'a', 'b', 'd']);
    expect(WordTokenizer.fromText(text, { maxWords: 2 }).words).toEqual(['c', 'a']);
    expect(WordTokenizer.fromText(text, { minCount: 2 }).words).toEqual(['c', 'a']);
  });

  it('matches special tokens only when allowed', () => {
    const tok = WordTokenizer.fromText('a b', { specialTokens: ['<s>'] });
    expect(tok.encode('<s> a', { allowedSpecial: 'all' })).toEqual([0, 1]);
    expect(() => tok.encode('<s> a')).toThrow('found "<" at offset 0'); // plain text by default, and "<" is not a word of the vocabulary
  });

  it('refuses duplicate words, pieces that are not one word, and ids outside the vocabulary', () => {
    expect(() => new WordTokenizer(['a', 'a'])).toThrow('words[1]: expected distinct words, found "a" again');
    expect(() => new WordTokenizer(['two words'])).toThrow('words[0]: expected one word or one punctuation mark, found "two words"');
    expect(() => new WordTokenizer([''])).toThrow('words[0]: expected one word or one punctuation mark, found ""');
    const tok = new WordTokenizer(['a']);
    expect(() => tok.decode([0, 1])).toThrow('ids[1]: expected a token id from 0 to 0, found 1');
    expect(() => tok.decode([0.5])).toThrow(TokenizerError);
  });

  it('round-trips through JSON and loadTokenizer', () => {
    const tok = WordTokenizer.fromText(SENTENCE, { specialTokens: ['<pad>', '<unk>'], pad: '<pad>', unk: '<unk>' });
    const json = JSON.parse(JSON.stringify(tok));
    expect(json).toEqual({ kind: 'word', version: 1, lowercase: true, specialTokens: ['<pad>', '<unk>'], pad: '<pad>', unk: '<unk>', words: [...tok.words] });
    const back = loadTokenizer(json);
    expect(back).toBeInstanceOf(WordTokenizer);
    expect(back.encode(`${SENTENCE} zebra`)).toEqual(tok.encode(`${SENTENCE} zebra`));
    expect(back.vocabSize).toBe(tok.vocabSize);
  });

  it.each([
    [{ kind: 'word', words: 'abc' }, 'words: expected an array, found "abc"'],
    [{ kind: 'word', words: ['a', 5] }, 'words[1]: expected a non-empty string, found 5'],
    [{ kind: 'word', words: ['a'], unk: '<unk>' }, 'unk: expected one of specialTokens, found "<unk>"'],
    [{ kind: 'word', words: ['a'], lowercase: 'yes' }, 'lowercase: expected true or false, found "yes"'],
    [{ kind: 'word', words: ['a', 'b c'] }, 'words[1]: expected one word or one punctuation mark, found "b c"'],
    [{ kind: 'word', version: 2, words: [] }, 'expected word tokenizer JSON version 1, found 2'],
  ])('a malformed file is one TokenizerError naming the field (%j)', (json, message) => {
    expect(() => loadTokenizer(json)).toThrow(TokenizerError);
    expect(() => loadTokenizer(json)).toThrow(message);
  });

  it('streams: each id is a whole token, with the space decode puts before it', () => {
    const tok = WordTokenizer.fromText('hello , world ( x )');
    const ids = tok.encode('hello, world (x)');
    const s = tok.textStream();
    const parts = ids.map((id) => s.push(id));
    expect(parts.join('') + s.flush()).toBe(tok.decode(ids));
    expect(parts).toEqual(['hello', ',', ' world', ' (', 'x', ')']);
  });
});
