// An encoder-decoder, given its source, seen as a decoder-only language model:
// the contract @tx/generate drives (greedy, sampling, beam search). The source
// is encoded once; each feed re-runs the decoder over the target so far (the
// last blockSize ids past the context). Targets of toy and translation tasks
// are short, so recomputing keeps forks (one per beam) free of cache copies.
//
// It knows the model only through EncoderDecoderLike, the few members it uses,
// so models/encoder-decoder.ts imports this file and not the other way round.
import { tf, type DecodingSession, type LanguageModel } from '@tx/core';
import type { KVCache } from '@tx/attention';
import type { EncoderDecoderConfig } from '../models/config.js';
import { checkIds } from './ids.js';

/** What conditionOn needs of an encoder-decoder (EncoderDecoderTransformer has it): its vocabularies and context, encode, decode and the encoder's caches. */
export interface EncoderDecoderLike {
  readonly config: Readonly<Pick<EncoderDecoderConfig, 'srcVocabSize' | 'tgtVocabSize' | 'blockSize'>>;
  /** src: int32 [1, S] -> memory [1, S, dModel] */
  encode(src: tf.Tensor, options: { srcPaddingMask?: tf.Tensor }): { memory: tf.Tensor };
  /** tgt: int32 [1, T] -> logits [1, T, tgtVocabSize]; the cross caches are filled by the first call. */
  decode(tgt: tf.Tensor, memory: tf.Tensor, options: { srcPaddingMask?: tf.Tensor; cache: { cross: KVCache[] } }): { logits: tf.Tensor };
  /** Caches for the encoder's keys and values only (each feed re-runs the decoder over the target). */
  createCache(options: { self: false }): { cross: KVCache[] };
}

/** An encoder-decoder with its source encoded, as a LanguageModel for `@tx/generate`; dispose it when done. */
export interface ConditionedModel extends LanguageModel {
  /** Free the encoded source. */
  dispose(): void;
}

/** The model with its source encoded, as a LanguageModel (EncoderDecoderTransformer.conditionOn calls it). */
export function conditionOn(model: EncoderDecoderLike, sourceIds: readonly number[], { padId }: { padId?: number } = {}): ConditionedModel {
  const { srcVocabSize, tgtVocabSize, blockSize } = model.config;
  checkIds(sourceIds, srcVocabSize, 'conditionOn (source)');
  const src = tf.tensor2d([[...sourceIds]], [1, sourceIds.length], 'int32');
  const srcPaddingMask = padId === undefined ? undefined : tf.equal(src, padId);
  let memory: tf.Tensor;
  try {
    ({ memory } = model.encode(src, { srcPaddingMask }));
  } catch (err) {
    tf.dispose([src, ...(srcPaddingMask ? [srcPaddingMask] : [])]);
    throw err;
  }
  // The encoder's keys and values: filled by the first step, then read by every step of every fork.
  const cache = model.createCache({ self: false });
  const session = (ids: number[]): DecodingSession => ({
    async feed(newIds) {
      checkIds(newIds, tgtVocabSize, 'conditioned session feed');
      ids.push(...newIds);
      const window = ids.slice(-blockSize);
      const next = tf.tidy(() => {
        const { logits } = model.decode(tf.tensor2d([window], [1, window.length], 'int32'), memory, { srcPaddingMask, cache });
        return tf.reshape(tf.slice(logits, [0, window.length - 1, 0], [1, 1, -1]), [-1]);
      });
      try {
        return { logits: (await next.data()) as Float32Array };
      } finally {
        next.dispose();
      }
    },
    fork: () => session([...ids]),
    dispose() {},
  });
  return {
    vocabSize: tgtVocabSize,
    blockSize,
    startSession: () => session([]),
    dispose: () => {
      tf.dispose([src, memory, ...(srcPaddingMask ? [srcPaddingMask] : [])]);
      for (const c of cache.cross) c.dispose();
    },
  };
}
