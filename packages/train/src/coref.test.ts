// The coref task (grammar, uniform choices, held-out validation, vocabulary,
// batches, scoring) and the pointer loss: values by hand and the gradient
// against its plain formula, (softmax - onehot(target)) / B.
import { Encoder, encoderConfig } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { expectNoLeak } from '@tx/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { COREF_GRAMMAR as G, COREF_MAX_LENGTH, corefBatch, corefReading, corefSentence, corefTokenizer, corefTriples, evaluateCoref, findPronouns, isHeldOut, makeCorefExamples } from './coref.js';
import { pointerBatch, type PointerBatch } from './data.js';
import { pointerLoss, type PointerModelLike } from './losses.js';

const SENTENCE = "The animal didn't cross the street because it was too tired.";

describe('the coref task', () => {
  it('writes sentences of the grammar, with the pronoun and its referent at the right word', () => {
    const tok = corefTokenizer();
    const adjectiveOf = (e: { words: string[] }) => e.words.at(-2)!;
    let longest = 0;
    for (const e of makeCorefExamples(5000, new Rng(1))) {
      expect(e.text).toMatch(/^(Yesterday, the|That morning, the|In the end, the|The) .+ it was (too|so|very) [a-z]+\.$/);
      expect(tok.split(e.text).map((p) => p.word)).toEqual(e.words);
      expect(e.words[e.pronoun]).toBe('it');
      expect(findPronouns(e.words)).toEqual([e.pronoun]);
      const subject = (G.subjectAdjective as readonly string[]).includes(adjectiveOf(e));
      expect(e.refersTo).toBe(subject ? 'subject' : 'object');
      expect((subject ? G.subject : G.object) as readonly string[]).toContain(e.words[e.referent]);
      expect(e.referent).toBeLessThan(e.pronoun);
      expect(tok.unknownWords(e.text)).toEqual([]);
      longest = Math.max(longest, e.words.length);
    }
    expect(longest).toBe(COREF_MAX_LENGTH);
  });

  it('draws every choice uniformly, each optional part half the time', () => {
    const n = 22_000;
    const examples = makeCorefExamples(n, new Rng(2));
    const share = (test: (e: (typeof examples)[number]) => boolean) => examples.filter(test).length / n;
    expect(share((e) => !e.text.startsWith('The '))).toBeCloseTo(0.5, 1);
    expect(share((e) => e.text.startsWith('That morning,'))).toBeCloseTo(1 / 6, 1);
    expect(share((e) => e.refersTo === 'subject')).toBeCloseTo(0.5, 1);
    expect(share((e) => G.neutral.some((w) => e.words.includes(w)))).toBeCloseTo(0.5, 1);
    expect(share((e) => G.place.some((w) => e.words.includes(w)))).toBeCloseTo(0.5, 1);
    // Each of the 22 adjectives about 1/22 of the time (1,000 expected; seeded, so not flaky).
    for (const adjective of [...G.subjectAdjective, ...G.objectAdjective]) {
      const count = examples.filter((e) => e.words.at(-2) === adjective).length;
      expect(Math.abs(count - n / 22), adjective).toBeLessThan(150);
    }
    for (const verb of G.verb) expect(share((e) => e.text.includes(` ${verb} the `))).toBeCloseTo(1 / 8, 1);
  });

  it('keeps validation sentences out of training: their (SUBJ, OBJ, ADJ) triples, the explainer\'s among them', () => {
    expect(corefTriples('train') + corefTriples('val')).toBe(11 * 9 * 22);
    expect(corefTriples('val')).toBeGreaterThan(150);
    expect(isHeldOut('animal', 'street', 'tired')).toBe(true);
    expect(isHeldOut('animal', 'street', 'wide')).toBe(true);
    const triple = (e: { words: string[]; pronoun: number }) => {
      const subject = e.words.find((w) => (G.subject as readonly string[]).includes(w))!;
      const object = e.words.find((w) => (G.object as readonly string[]).includes(w))!;
      return [subject, object, e.words.at(-2)!] as const;
    };
    for (const e of makeCorefExamples(3000, new Rng(3), 'train')) expect(isHeldOut(...triple(e))).toBe(false);
    const val = makeCorefExamples(3000, new Rng(3), 'val');
    for (const e of val) expect(isHeldOut(...triple(e))).toBe(true);
    expect(val.some((e) => e.words.includes('animal') && e.words.includes('street'))).toBe(true);
  });

  it('repeats under a seed', () => {
    expect(makeCorefExamples(20, new Rng(9))).toEqual(makeCorefExamples(20, new Rng(9)));
    expect(corefSentence(new Rng(9), 'val')).toEqual(corefSentence(new Rng(9), 'val'));
  });

  it("has a vocabulary in which the explainer's sentence has no unknown word and it, animal, street are one token each", () => {
    const tok = corefTokenizer();
    expect(tok.specialTokens).toEqual({ '<pad>': 0, '<unk>': 1 });
    const ids = tok.encode(SENTENCE);
    expect(ids).toHaveLength(12);
    expect(ids).not.toContain(1);
    for (const word of ['it', 'animal', 'street']) expect(tok.encode(word)).toHaveLength(1);
    // Every word of the grammar once, plus "the", "it", "was", "." and the two specials.
    const grammarWords = new Set(Object.values(G).flat().flatMap((s) => tok.split(s).map((p) => p.word)));
    for (const w of ['the', 'it', 'was', '.']) grammarWords.add(w);
    expect(tok.vocabSize).toBe(grammarWords.size + 2);
    expect(tok.decode(ids)).toBe("the animal didn't cross the street because it was too tired.");
  });

  it('reads a text as the model may answer it: "it", the nouns it may refer to, and whether the sentence is of the grammar', () => {
    const tok = corefTokenizer();
    const read = (text: string) => corefReading(tok.split(text).map((p) => p.word));
    // Every sentence of both splits fits, and its candidates are exactly its subject and object.
    for (const split of ['train', 'val'] as const) {
      for (const e of makeCorefExamples(2000, new Rng(8), split)) {
        const r = corefReading(e.words);
        expect(r.fitsGrammar, e.text).toBe(true);
        expect(r.pronoun).toBe(e.pronoun);
        expect(r.candidates).toHaveLength(2);
        expect(r.candidates).toContain(e.referent);
      }
    }
    expect(read(SENTENCE)).toEqual({ pronoun: 7, candidates: [1, 5], fitsGrammar: true });
    expect(read("In the end, the little dog couldn't swim across the old road as it was so icy.")).toEqual({ pronoun: 14, candidates: [6, 12], fitsGrammar: true });
    expect(corefReading(['The', 'ANIMAL', "didn't", 'cross', 'the', 'street', 'because', 'It', 'was', 'too', 'tired', '.'])).toEqual({ pronoun: 7, candidates: [1, 5], fitsGrammar: true });
    // The repros: no noun to point at, or the grammar's roles swapped, or the sentence cut short.
    expect(read('it')).toEqual({ pronoun: 0, candidates: [], fitsGrammar: false });
    expect(read('it .')).toEqual({ pronoun: 0, candidates: [], fitsGrammar: false });
    expect(read('The it')).toEqual({ pronoun: 1, candidates: [], fitsGrammar: false });
    expect(read('It was too wide.')).toEqual({ pronoun: 0, candidates: [], fitsGrammar: false });
    expect(read("The street didn't cross the animal because it was too tired.")).toEqual({ pronoun: 7, candidates: [1, 5], fitsGrammar: false });
    expect(read("The animal didn't cross the street because it was too tired")).toEqual({ pronoun: 7, candidates: [1, 5], fitsGrammar: false });
    expect(read("The animal didn't cross the street because it was too wide. The dog")).toEqual({ pronoun: 7, candidates: [1, 5, 13], fitsGrammar: false });
    expect(read('it was it.')).toEqual({ pronoun: null, candidates: [], fitsGrammar: false });
    expect(read('')).toEqual({ pronoun: null, candidates: [], fitsGrammar: false });
  });

  it('batches examples with padding, the pronoun as query and the referent as target', () => {
    const tok = corefTokenizer();
    const examples = makeCorefExamples(3, new Rng(4));
    const b = corefBatch(tok, examples);
    const T = Math.max(...examples.map((e) => e.words.length));
    expect(b.length).toBe(T);
    examples.forEach((e, i) => {
      expect(Array.from(b.ids.subarray(i * T, i * T + e.words.length))).toEqual(tok.encode(e.text));
      expect(Array.from(b.pad.subarray(i * T, (i + 1) * T))).toEqual([...Array(e.words.length).fill(0), ...Array(T - e.words.length).fill(1)]);
      expect(b.ids.subarray(i * T + e.words.length, (i + 1) * T).every((id) => id === 0)).toBe(true);
      expect([b.query[i], b.target[i]]).toEqual([e.pronoun, e.referent]);
    });
    expect(() => pointerBatch([{ ids: [1, 2], query: 2, target: 0 }], { padId: 0 })).toThrow('pointerBatch: row 0: query 2 is not a position of its 2 tokens');
  });
});

describe.each(['cpu', 'wasm'] as const)('pointerLoss and evaluateCoref on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  /** A model whose pointer logits are `logits` (a variable), with padding set to -1e9 as the Encoder does. */
  const fixed = (logits: tf.Variable): PointerModelLike => ({
    forward: (_ids, { paddingMask }) => ({ pointer: tf.add(logits, tf.mul(tf.cast(paddingMask, 'float32'), -1e9)) }),
  });
  const batch: PointerBatch = { ids: Int32Array.from([5, 6, 7, 8, 9, 0]), pad: Uint8Array.from([0, 0, 0, 0, 0, 1]), query: Int32Array.from([2, 0]), target: Int32Array.from([1, 2]), batchSize: 2, length: 3 };

  it('is -log softmax of the target position, averaged: by hand', async () => {
    // Row 0: [0, ln 2, ln 5] -> p = [1/8, 2/8, 5/8], target 1: ln 4. Row 1: [0, 0, pad], target... 2 is padding in row 1, so use target 0: ln 2.
    const logits = tf.variable(tf.tensor2d([[0, Math.log(2), Math.log(5)], [0, 0, 3]]));
    const loss = pointerLoss(fixed(logits), { ...batch, target: Int32Array.from([1, 0]) });
    expect((await loss.data())[0]).toBeCloseTo((Math.log(4) + Math.log(2)) / 2, 6);
    tf.dispose([loss, logits]);
  });

  it('has the gradient (softmax - onehot(target)) / B on the logits, and none on padding', async () => {
    const values = [[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]];
    const target = [1, 0];
    const logits = tf.variable(tf.tensor2d(values));
    const { value, grads } = tf.variableGrads(() => pointerLoss(fixed(logits), { ...batch, target: Int32Array.from(target) }), [logits]);
    const grad = (await grads[logits.name].array()) as number[][];
    values.forEach((row, b) => {
      const visible = b === 1 ? row.slice(0, 2) : row; // row 1's last position is padding
      const z = visible.reduce((s, v) => s + Math.exp(v), 0);
      visible.forEach((v, j) => expect(grad[b][j]).toBeCloseTo((Math.exp(v) / z - (j === target[b] ? 1 : 0)) / 2, 6));
      if (b === 1) expect(grad[b][2]).toBe(0);
    });
    const z0 = values[0].reduce((s, v) => s + Math.exp(v), 0);
    const z1 = Math.exp(values[1][0]) + Math.exp(values[1][1]);
    expect((await value.data())[0]).toBeCloseTo((-(values[0][1] - Math.log(z0)) - (values[1][0] - Math.log(z1))) / 2, 6);
    await expectNoLeak(() => tf.tidy(() => void tf.variableGrads(() => pointerLoss(fixed(logits), batch), [logits])));
    tf.dispose([value, logits, ...Object.values(grads)]);
  });

  it('trains an Encoder: the loss falls on a batch of coref sentences', async () => {
    const tok = corefTokenizer();
    const model = new Encoder(encoderConfig(tok.vocabSize, { nLayer: 1, nHead: 2, dModel: 16, blockSize: COREF_MAX_LENGTH }), { rng: new Rng(1) });
    const b = corefBatch(tok, makeCorefExamples(16, new Rng(5)));
    const optimizer = new tf.SGDOptimizer(0.5);
    const first = (await pointerLoss(model, b).data())[0];
    for (let i = 0; i < 10; i++) optimizer.minimize(() => pointerLoss(model, b), false, model.parameters());
    const last = pointerLoss(model, b);
    expect((await last.data())[0]).toBeLessThan(first - 0.3);
    tf.dispose([last]);
    optimizer.dispose();
    model.dispose();
  });

  it("scores: accuracy from the pointer, head accuracy from the head's attention among the other tokens", async () => {
    const tok = corefTokenizer();
    const examples = makeCorefExamples(7, new Rng(6), 'val');
    // An oracle: the pointer is sure of the referent; the head's attention puts 0.6 on "it" itself and 0.3 on the referent.
    let seen = 0; // evaluateCoref runs the examples in order, in batches
    const model = {
      config: { pointerHead: [1, 1] },
      training: false,
      eval() { return this; },
      train() { return this; },
      forward(ids: tf.Tensor, { query }: { query: tf.Tensor }) {
        const [B, T] = ids.shape;
        const q = query.arraySync() as number[];
        const referents = examples.slice(seen, seen + B).map((e) => e.referent);
        seen += B;
        const pointer = tf.tensor2d(referents.map((r) => Array.from({ length: T }, (_, j) => (j === r ? 10 : 0))));
        const row = (b: number) => Array.from({ length: T }, (_, j) => (j === q[b] ? 0.6 : j === referents[b] ? 0.3 : 0.1 / (T - 2)));
        const attention = [0, 1].map(() => tf.tensor4d(Array.from({ length: B }, (_, b) => [0, 1].map(() => Array.from({ length: T }, () => row(b))))));
        return { pointer, attention };
      },
    } as unknown as Encoder;
    const score = await evaluateCoref(model, tok, examples, { batchSize: 3 });
    expect(score).toMatchObject({ examples: 7, accuracy: 1, headAccuracy: 1 });
    expect(score.meanProbability).toBeCloseTo(Math.exp(10) / (Math.exp(10) + examples[0].words.length - 1), 1);
  });
});
