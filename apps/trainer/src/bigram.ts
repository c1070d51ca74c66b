// A character bigram model: the smallest real end-to-end language model.
// Each character looks up a row of logits for the next character. It stands
// in for `tx train` until the Transformer blocks land (issues 4, 5, 7), and it
// already exercises the whole path: corpus -> vocabulary -> Module -> Adam ->
// checkpoint -> sampling.
import { Module, Rng, matMul2d, randomNormal, tf } from '@tx/core';

/** '.' marks the start and end of a name (token 0), then the sorted characters. */
export class CharVocab {
  readonly chars: string[];
  private readonly index: Map<string, number>;

  constructor(words: string[]) {
    this.chars = ['.', ...[...new Set(words.join(''))].sort()];
    this.index = new Map(this.chars.map((c, i) => [c, i]));
  }

  get size(): number {
    return this.chars.length;
  }

  encode(word: string): number[] {
    return [...word].map((c, offset) => {
      const id = this.index.get(c);
      if (id === undefined) throw new Error(`character ${JSON.stringify(c)} at offset ${offset} of "${word}" is not in the vocabulary`);
      return id;
    });
  }
}

export class Bigram extends Module {
  readonly table: tf.Variable;

  constructor(readonly vocabSize: number, rng: Rng) {
    super();
    this.table = this.param('table', randomNormal([vocabSize, vocabSize], rng, { std: 0.02 }));
  }

  // ids: [N] -> logits [N, V]. One-hot times the table: tf.gather has no gradient on wasm.
  forward(ids: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => matMul2d(tf.oneHot(ids, this.vocabSize).toFloat() as tf.Tensor2D, this.table as tf.Tensor2D));
  }

  // Mean cross-entropy of next ids given ids.
  loss(ids: tf.Tensor1D, next: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const logProbs = tf.logSoftmax(this.forward(ids));
      const picked = tf.sum(tf.mul(logProbs, tf.oneHot(next, this.vocabSize).toFloat()), -1);
      return tf.neg(tf.mean(picked)) as tf.Scalar;
    });
  }

  /** Sample one word, starting and ending at token 0. */
  async sample(rng: Rng, maxLength = 30): Promise<number[]> {
    const probs = tf.tidy(() => tf.softmax(this.table));
    const rows = (await probs.array()) as number[][];
    probs.dispose();
    const out: number[] = [];
    let current = 0;
    while (out.length < maxLength) {
      let u = rng.random();
      let next = 0;
      while (next < rows[current].length - 1 && u >= rows[current][next]) u -= rows[current][next++];
      if (next === 0) break;
      out.push(next);
      current = next;
    }
    return out;
  }
}
