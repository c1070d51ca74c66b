// The dates task on an encoder-decoder (@tx/blocks' EncoderDecoderTransformer),
// with the conventions of `tx train --task dates` (apps/trainer/src/seq2seq-train.ts):
// one character vocabulary for sources and targets plus '<pad>', '<bos>',
// '<eos>'; batches from @tx/train's seq2seqBatch; label smoothing 0.1;
// greedy decoding through @tx/generate with model.conditionOn().
import type { EncoderDecoderConfig, EncoderDecoderTransformer } from '@tx/blocks';
import { tf } from '@tx/core';
import { generate } from '@tx/generate';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import { SEQ2SEQ_SPECIALS, crossEntropy, maxTargetLength, seq2seqBatch, taskAlphabet, type Example, type Seq2SeqBatch } from '@tx/train';
import type { Specials } from './checkpoint.js';

/** The longest ISO date, "2026-11-27", plus the end token. */
export const MAX_TARGET = maxTargetLength('dates') + 1;

/** The dates vocabulary, as the trainer builds it: @tx/train's task alphabet plus '<pad>', '<bos>', '<eos>'. */
export function datesTokenizer(): CharTokenizer {
  return CharTokenizer.fromText(taskAlphabet('dates'), { specialTokens: [...SEQ2SEQ_SPECIALS] });
}

export function specialsOf(tokenizer: Tokenizer): Specials {
  const t = tokenizer.specialTokens;
  const s = { pad: t['<pad>'], bos: t['<bos>'], eos: t['<eos>'] };
  if (![s.pad, s.bos, s.eos].every((x) => Number.isInteger(x))) throw new Error("the tokenizer has no '<pad>', '<bos>' and '<eos>' tokens");
  return s;
}

/** A small encoder-decoder for a vocabulary (the trainer's seq2seq shape: pre-norm, shared tied embeddings, ReLU). */
export function datesConfig(vocabSize: number, { nLayer = 2, nHead = 4, dModel = 64, maxLen = 48 } = {}): EncoderDecoderConfig {
  return {
    srcVocabSize: vocabSize, tgtVocabSize: vocabSize, maxLen,
    nEncoderLayer: nLayer, nDecoderLayer: nLayer, nHead, dModel, dFF: 4 * dModel,
    dropout: 0, bias: true, norm: 'pre', sharedEmbeddings: true, tieOutput: true, activation: 'relu',
  };
}

export function toBatch(tokenizer: Tokenizer, examples: Example[]): Seq2SeqBatch {
  const { pad, bos, eos } = specialsOf(tokenizer);
  return seq2seqBatch(examples.map((e) => [tokenizer.encode(e.source), tokenizer.encode(e.target)]), { padId: pad, bosId: bos, eosId: eos });
}

/** Mean cross-entropy of a batch, padding ignored, label smoothing 0.1 (as the trainer). */
export function seq2seqLoss(model: EncoderDecoderTransformer, b: Seq2SeqBatch, padId: number): tf.Scalar {
  return tf.tidy(() => {
    const src = tf.tensor2d(b.src, [b.batchSize, b.srcLength], 'int32');
    const tgt = tf.tensor2d(b.tgtIn, [b.batchSize, b.tgtLength], 'int32');
    const { logits } = model.forward(src, tgt, { srcPaddingMask: tf.equal(src, padId) });
    return crossEntropy(logits, tf.tensor2d(b.tgtOut, [b.batchSize, b.tgtLength], 'int32'), { ignoreIndex: padId, labelSmoothing: 0.1 });
  });
}

export interface Translation {
  /** The source characters the model read (unknown ones left out). */
  source: string[];
  /** The output characters, in order (without <eos>). */
  target: string[];
  text: string;
  /** Cross-attention per decoder layer, [layer][head][target][source]: row i is the query that produced target[i]. */
  cross: number[][][][];
}

/**
 * Greedy decoding with @tx/generate over model.conditionOn(source), then one
 * forward pass over <bos> + output to read the cross-attention that produced
 * each output character.
 */
export async function translate(model: EncoderDecoderTransformer, tokenizer: Tokenizer, srcIds: number[], maxNewTokens = MAX_TARGET): Promise<Translation> {
  const { pad, bos, eos } = specialsOf(tokenizer);
  if (srcIds.length === 0) throw new Error('the input has no characters the model knows');
  const wasTraining = model.training;
  model.eval();
  const conditioned = model.conditionOn(srcIds, { padId: pad });
  try {
    const out = await generate(conditioned, [bos], { greedy: true, eosId: eos, maxNewTokens });
    const ids = out.ids.filter((id) => id !== eos);
    const { logits, attention } = model.forward([srcIds], [[bos, ...ids]], { returnAttention: true });
    try {
      const cross = await Promise.all(attention!.cross.map(async (t) => ((await t.array()) as number[][][][])[0]));
      // Row i (the query at input position i) predicted output i; an extra last row predicted <eos>.
      const rows = cross.map((layer) => layer.map((head) => head.slice(0, Math.max(ids.length, 1))));
      return {
        source: srcIds.map((id) => tokenizer.decode([id])),
        target: ids.length ? ids.map((id) => tokenizer.decode([id])) : ['<eos>'],
        text: tokenizer.decode(ids),
        cross: rows,
      };
    } finally {
      tf.dispose([logits, ...attention!.encoder, ...attention!.decoder, ...attention!.cross]);
    }
  } finally {
    conditioned.dispose();
    model.train(wasTraining);
  }
}

/** Greedy outputs for many sources (one at a time: short, and the same path as the view). */
export async function translateAll(model: EncoderDecoderTransformer, tokenizer: Tokenizer, sources: string[]): Promise<string[]> {
  const { pad, bos, eos } = specialsOf(tokenizer);
  const wasTraining = model.training;
  model.eval();
  const out: string[] = [];
  try {
    for (const s of sources) {
      const conditioned = model.conditionOn(tokenizer.encode(s), { padId: pad });
      try {
        const r = await generate(conditioned, [bos], { greedy: true, eosId: eos, maxNewTokens: MAX_TARGET });
        out.push(tokenizer.decode(r.ids.filter((id) => id !== eos)));
      } finally {
        conditioned.dispose();
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}
