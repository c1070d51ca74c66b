// Greedy decoding of many sources at once, for evaluating seq2seq models:
// encode the batch, then grow every target one position per step (the
// decoder recomputed over the target so far: targets are short), until each
// has produced <eos> or maxLength ids.
import { tf } from '@tx/core';
import type { Seq2SeqSpecials } from '../models/spec.js';
import type { EncoderDecoderTransformer } from '../models/encoder-decoder.js';
import { checkIds } from './ids.js';

/** sources: ids per example -> the predicted target ids per example (no <bos>, <eos> or padding). */
export async function greedyTranslate(model: EncoderDecoderTransformer, sources: number[][], { pad, bos, eos }: Seq2SeqSpecials, maxLength: number): Promise<number[][]> {
  const B = sources.length;
  if (B === 0) return [];
  sources.forEach((s, i) => checkIds(s, model.config.srcVocabSize, `greedyTranslate (source ${i})`));
  const S = Math.max(1, ...sources.map((s) => s.length));
  const src = tf.tensor2d(sources.map((s) => [...s, ...new Array<number>(S - s.length).fill(pad)]), [B, S], 'int32');
  const srcPaddingMask = tf.equal(src, pad);
  const wasTraining = model.training;
  model.eval();
  const outputs: number[][] = sources.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let memory: tf.Tensor | null = null;
  const cache = model.createCache({ self: false }); // the encoder's keys and values, computed once, not per step
  try {
    memory = model.encode(src, { srcPaddingMask }).memory;
    for (let t = 0; t < Math.min(maxLength, model.config.blockSize) && done.includes(false); t++) {
      const next = tf.tidy(() => {
        const tgt = tf.tensor2d(outputs.map((o) => [bos, ...o, ...new Array<number>(t - o.length).fill(pad)]), [B, t + 1], 'int32');
        const { logits } = model.decode(tgt, memory!, { srcPaddingMask, cache });
        return tf.argMax(tf.squeeze(tf.slice(logits, [0, t, 0], [B, 1, -1]), [1]), -1);
      });
      const ids = Array.from(await next.data());
      next.dispose();
      ids.forEach((id, b) => {
        if (done[b]) return;
        if (id === eos) done[b] = true;
        else outputs[b].push(id);
      });
    }
  } finally {
    tf.dispose([src, srcPaddingMask, ...(memory ? [memory] : [])]);
    for (const c of cache.cross) c.dispose();
    model.train(wasTraining);
  }
  return outputs.map((o) => o.filter((id) => id !== pad && id !== bos)); // as the text decoder would skip them
}
