// An encoder-decoder seen as a CausalLanguageModel for @tx/generate: the
// source is encoded once; each feed re-runs the decoder over the target so
// far (targets here are a few dozen tokens, so recomputing is cheap and
// keeps forks trivial for beam search).
import type { EncoderDecoderTransformer } from '@tx/blocks';
import { tf } from '@tx/core';
import type { CausalLanguageModel, Decoder } from '@tx/generate';

export function conditionedOn(model: EncoderDecoderTransformer, sourceIds: number[], pad: number): CausalLanguageModel & { dispose(): void } {
  const src = tf.tensor2d([sourceIds], [1, sourceIds.length], 'int32');
  const srcPaddingMask = tf.equal(src, pad);
  const { memory } = model.encode(src, { srcPaddingMask });
  const maxLen = model.config.maxLen;
  const decoder = (ids: number[]): Decoder => ({
    async feed(newIds) {
      ids.push(...newIds);
      const window = ids.slice(-maxLen);
      const logits = tf.tidy(() => {
        const out = model.decode([window], memory, { srcPaddingMask }).logits;
        return tf.reshape(tf.slice(out, [0, window.length - 1, 0], [1, 1, -1]), [-1]);
      });
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      return { logits: data };
    },
    fork: () => decoder([...ids]),
    dispose() {},
  });
  return {
    vocabSize: model.config.tgtVocabSize,
    contextLength: maxLen,
    startDecoder: () => decoder([]),
    dispose: () => tf.dispose([src, srcPaddingMask, memory]),
  };
}
