// The dates task on an encoder-decoder, with the conventions of `tx train
// --task dates` (@tx/train's taskTokenizer, examplesBatch, seq2seqLoss):
// translate() shows one source's output and the cross-attention that produced it.
import { greedyTranslate, type EncoderDecoderTransformer } from '@tx/blocks';
import { tf } from '@tx/core';
import { generate } from '@tx/generate';
import type { Tokenizer } from '@tx/tokenizer';
import { maxTargetLength, specialsOf } from '@tx/train';

/** The longest ISO date, "2026-11-27", plus the end token. */
export const MAX_TARGET = maxTargetLength('dates') + 1;

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
    const [src, tgt] = [tf.tensor2d([srcIds], [1, srcIds.length], 'int32'), tf.tensor2d([[bos, ...ids]], [1, ids.length + 1], 'int32')];
    const { logits, attention } = model.forward(src, tgt, { returnAttention: true });
    tf.dispose([src, tgt]);
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

/** Greedy outputs for many sources at once, as text. */
export async function translateAll(model: EncoderDecoderTransformer, tokenizer: Tokenizer, sources: string[]): Promise<string[]> {
  const outputs = await greedyTranslate(model, sources.map((s) => tokenizer.encode(s)), specialsOf(tokenizer), MAX_TARGET);
  return outputs.map((ids) => tokenizer.decode(ids));
}
