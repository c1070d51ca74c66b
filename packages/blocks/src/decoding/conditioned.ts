// An encoder-decoder, given its source, seen as a decoder-only language model:
// the interface @tx/generate drives (greedy, sampling, beam search). The
// source is encoded once; each feed re-runs the decoder over the target so
// far. Targets of toy and translation tasks are short, so recomputing keeps
// forks (one per beam) free of cache copies.
import { tf } from '@tx/core';
import type { StepOutput } from './decoder.js';
import type { EncoderDecoderTransformer } from './encoder-decoder.js';

export interface ConditionedDecoder {
  feed(ids: readonly number[]): Promise<StepOutput>;
  fork(): ConditionedDecoder;
  dispose(): void;
}

export interface ConditionedModel {
  readonly vocabSize: number;
  readonly contextLength: number;
  startDecoder(): ConditionedDecoder;
  /** Free the encoded source. */
  dispose(): void;
}

export function conditionOn(model: EncoderDecoderTransformer, sourceIds: readonly number[], { padId }: { padId?: number } = {}): ConditionedModel {
  const src = tf.tensor2d([[...sourceIds]], [1, sourceIds.length], 'int32');
  const srcPaddingMask = padId === undefined ? undefined : tf.equal(src, padId);
  let memory: tf.Tensor;
  try {
    ({ memory } = model.encode(src, { srcPaddingMask }));
  } catch (err) {
    tf.dispose([src, ...(srcPaddingMask ? [srcPaddingMask] : [])]);
    throw err;
  }
  const maxLen = model.config.maxLen;
  const decoder = (ids: number[]): ConditionedDecoder => ({
    async feed(newIds) {
      ids.push(...newIds);
      const window = ids.slice(-maxLen);
      const next = tf.tidy(() => {
        const { logits } = model.decode([window], memory, { srcPaddingMask });
        return tf.reshape(tf.slice(logits, [0, window.length - 1, 0], [1, 1, -1]), [-1]);
      });
      try {
        return { logits: (await next.data()) as Float32Array };
      } finally {
        next.dispose();
      }
    },
    fork: () => decoder([...ids]),
    dispose() {},
  });
  return {
    vocabSize: model.config.tgtVocabSize,
    contextLength: maxLen,
    startDecoder: () => decoder([]),
    dispose: () => tf.dispose([src, memory, ...(srcPaddingMask ? [srcPaddingMask] : [])]),
  };
}
