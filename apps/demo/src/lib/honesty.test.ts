import { describe, expect, it } from 'vitest';
import { corefReading } from '@tx/train';
import { twoLayerStory } from './story.js';
import { corefVerdict, isNearUniform, nearUniformHeads, liveText, swapWord, WINOGRAD, winogradNote } from './honesty.js';

const knows = { words: 78 };
const SEED = ['the', 'animal', "didn't", 'cross', 'the', 'street', 'because', 'it', 'was', 'too', 'tired', '.'];
const none = (tokens: string[]) => tokens.map(() => false);

describe('corefReading (the rule of @tx/train)', () => {
  it('finds the pronoun, the noun candidates and the grammar', () => {
    expect(corefReading(SEED)).toEqual({ pronoun: 7, candidates: [1, 5], fitsGrammar: true });
    const trophy = ['the', 'trophy', "didn't", 'fit', 'in', 'the', 'suitcase', 'because', 'it', 'was', 'too', 'big', '.'];
    expect(corefReading(trophy)).toEqual({ pronoun: 8, candidates: [], fitsGrammar: false });
    expect(corefReading(['the', 'animal', 'was', 'tired', '.']).pronoun).toBeNull();
  });
});

describe('corefVerdict', () => {
  it('answers the seed sentence with the candidate the pointer weighs most, qualified', () => {
    const pointer = [0, 0.97, 0, 0, 0, 0.02, 0, 0.01, 0, 0, 0, 0];
    const v = corefVerdict(SEED, none(SEED), pointer, corefReading(SEED), knows);
    expect(v.headline).toBe('it = the animal, 97%');
    expect(v.referent).toBe(1);
    expect(v.notes[0]).toBe("97% is the pointer's weight, within its 78 words: it knows 78 words and one sentence pattern.");
    expect(liveText(SEED, v)).toBe('it: animal 97%, street 2%');
  });

  it('never answers a word that is not a candidate: light on "tired" still answers among the nouns', () => {
    const pointer = [0, 0.3, 0, 0, 0, 0.1, 0, 0, 0, 0, 0.6, 0];
    const v = corefVerdict(SEED, none(SEED), pointer, corefReading(SEED), knows);
    expect(v.headline).toBe('it = the animal, 30%');
    expect(SEED[v.brightest!]).toBe('tired');
  });

  it('keeps unknown words and says an answer landing on one means nothing (the trophy sentence)', () => {
    const tokens = ['the', 'trophy', "didn't", 'fit', 'in', 'the', 'suitcase', 'because', 'it', 'was', 'too', 'big', '.'];
    const unknown = tokens.map((t) => ['trophy', 'fit', 'in', 'suitcase'].includes(t));
    const pointer = tokens.map((_, i) => (i === 6 ? 0.9 : 0.1 / 12));
    const v = corefVerdict(tokens, unknown, pointer, corefReading(tokens), knows);
    expect(v.headline).toBe('it = ?');
    expect(v.referent).toBeNull();
    expect(v.notes).toEqual([
      'This sentence is outside what this model was trained on: whatever it answers is a guess.',
      'No word here is a noun this model knows, so “it” has nothing it could refer to.',
      'Its light falls most on “suitcase”, a word unknown to this model (90%): that means nothing.',
    ]);
    expect(liveText(tokens, v)).toBe('it: no known noun to point at');
    expect(winogradNote(tokens, unknown, knows)).toContain('This model fails it. It has never seen “trophy”, “fit”, “in”, “suitcase”');
    expect(winogradNote(SEED, none(SEED), knows)).toBeNull();
  });

  it('flags a sentence outside the grammar but still answers among known nouns', () => {
    const tokens = ['the', 'animal', "didn't", 'climb', 'the', 'street', 'because', 'it', 'was', 'too', 'tired', '.'];
    const pointer = [0, 0.56, 0, 0.3, 0, 0.14, 0, 0, 0, 0, 0, 0];
    const v = corefVerdict(tokens, tokens.map((t) => t === 'climb'), pointer, corefReading(tokens), knows);
    expect(v.headline).toBe('it = the animal, 56%');
    expect(v.fitsGrammar).toBe(false);
    expect(v.notes[1]).toBe('This sentence is outside what this model was trained on: whatever it answers is a guess.');
  });

  it('with no "it", says what the model answers', () => {
    const tokens = ['the', 'animal', 'was', 'tired', '.'];
    const v = corefVerdict(tokens, none(tokens), null, corefReading(tokens), knows);
    expect(v.headline).toBe('No “it” here');
    expect(liveText(tokens, v)).toBe('No “it” here');
  });
});

describe('isNearUniform', () => {
  it('is true when the largest weight is under twice 1/T', () => {
    expect(isNearUniform([0.25, 0.25, 0.25, 0.25])).toBe(true);
    expect(isNearUniform([0.4, 0.2, 0.2, 0.2])).toBe(true); // 0.4 < 0.5
    expect(isNearUniform([0.5, 0.2, 0.2, 0.1])).toBe(false);
    expect(isNearUniform([1])).toBe(false);
  });

  it('finds the heads of a layer that are near-uniform for most queries', () => {
    const u = [0.25, 0.25, 0.25, 0.25], sharp = [0.9, 0.05, 0.05, 0];
    expect(nearUniformHeads([[sharp, sharp, u, u], [u, u, u, sharp], [u, u, u, u]])).toEqual([1, 2]);
  });
});

describe('swapWord', () => {
  it('puts a chip word where the word of its role stands', () => {
    const nouns = ['animal', 'dog', 'street', 'road'];
    expect(swapWord("The animal didn't cross the street because it was too tired.", ['tired', 'wide'], 'wide')).toBe("The animal didn't cross the street because it was too wide.");
    expect(swapWord("The Animal didn't cross", nouns.slice(0, 2), 'dog')).toBe("The dog didn't cross");
    expect(swapWord('nothing to swap', nouns, 'dog')).toBe('nothing to swap');
  });

  it('offers the Winograd pair', () => {
    expect(WINOGRAD.small.endsWith('too small.')).toBe(true);
  });
});

describe('twoLayerStory', () => {
  it('reads layer 0 gathering the adjective and the pointer head pointing to the noun', () => {
    // 4 tokens "animal it was tired", query "it" (1); layer 0: heads 0 and 1 on "tired", head 2 uniform.
    const u = [0.25, 0.25, 0.25, 0.25];
    const layer0 = [[u, [0.1, 0.1, 0.1, 0.7], u, u], [u, [0, 0.2, 0.2, 0.6], u, u], [u, u, u, u]];
    const layer1 = [[u, [0.9, 0.05, 0.05, 0], u, u], [u, u, u, u], [u, u, u, u]];
    const steps = twoLayerStory([layer0, layer1], ['animal', 'it', 'was', 'tired'], 1, [1, 0]);
    expect(steps.map((s) => s.text)).toEqual(['layer 0: “it” gathers “tired” (heads 0 and 1 adding their light)', 'layer 1: the coref head points to “animal”']);
    expect(steps.map((s) => [s.layer, s.heads, s.lit, s.key])).toEqual([[0, [0, 1, 2], [0, 1], 3], [1, [0], [0], 0]]);
    const unseen = twoLayerStory([layer0, layer1], ['trophy', 'it', 'was', 'tired'], 1, [1, 0], [true, false, false, false]);
    expect(unseen[1].text).toBe('layer 1: the coref head points to “trophy” (a word it has never seen: that means nothing)');
  });
});
