// `tx train --task dates|copy|reverse`: an encoder-decoder Transformer learns
// to rewrite a source string into a target (a date in any human format into
// ISO 8601, or a string into itself or its reverse). Cross-attention learns
// the alignment between the two. Training uses label smoothing 0.1, as the
// paper; evaluation reports exact-match accuracy of greedy decoding.
import { EncoderDecoderTransformer, type EncoderDecoderConfig } from '@tx/blocks';
import { Rng, tf } from '@tx/core';
import { CharTokenizer, type Tokenizer } from '@tx/tokenizer';
import { SEQ2SEQ_SPECIALS, crossEntropy, exactMatch, makeExamples, maxTargetLength, seq2seqBatch, taskAlphabet, type Example, type Seq2SeqBatch, type Seq2SeqTask } from '@tx/train';
import { emitStart, finish } from './lm.js';
import type { OpenedCheckpoint, Seq2SeqSpecials } from './model-io.js';
import { checkMemory, memoryBudget } from './budget.js';
import { runSession, type Output, type SessionResult } from './session.js';
import type { ResolvedSettings } from './settings.js';

/** One character vocabulary for sources and targets, with pad, bos and eos. */
export function seq2seqTokenizer(task: Seq2SeqTask): CharTokenizer {
  return CharTokenizer.fromText(taskAlphabet(task), { specialTokens: [...SEQ2SEQ_SPECIALS] });
}

export function specialsOf(tokenizer: Tokenizer): Seq2SeqSpecials {
  const t = tokenizer.specialTokens;
  return { pad: t['<pad>'], bos: t['<bos>'], eos: t['<eos>'] };
}

export async function trainSeq2Seq(s: ResolvedSettings, output: Output, resumed?: OpenedCheckpoint, { overwrite = false } = {}): Promise<SessionResult> {
  const task = s.task as Seq2SeqTask;
  const tokenizer = resumed?.tokenizer ?? seq2seqTokenizer(task);
  const specials = specialsOf(tokenizer);
  const V = tokenizer.vocabSize;
  const config: EncoderDecoderConfig = {
    srcVocabSize: V,
    tgtVocabSize: V,
    maxLen: s.blockSize,
    nEncoderLayer: s.nLayer,
    nDecoderLayer: s.nLayer,
    nHead: s.nHead,
    dModel: s.nEmbd,
    dFF: 4 * s.nEmbd,
    dropout: s.dropout,
    bias: true,
    norm: 'pre',
    sharedEmbeddings: true,
    tieOutput: true,
    activation: 'relu',
  };
  const spec = { kind: 'encoder-decoder' as const, config: resumed ? (resumed.config.model.config as EncoderDecoderConfig) : config, specials };
  checkMemory('training this model', spec, { batchSize: s.batchSize, training: true }, memoryBudget(tf.getBackend()));
  const model = (resumed?.model as EncoderDecoderTransformer | undefined) ?? new EncoderDecoderTransformer(config, { rng: new Rng(s.seed) });
  if (resumed) model.rng.setState(resumed.config.training.modelRngState);
  // A fixed validation set; training examples are drawn fresh from the batch rng.
  const valExamples = makeExamples(task, 256, new Rng(s.seed + 7));
  const toBatch = (examples: Example[]) =>
    seq2seqBatch(examples.map((e) => [tokenizer.encode(e.source), tokenizer.encode(e.target)]), { padId: specials.pad, bosId: specials.bos, eosId: specials.eos });

  emitStart(output, s, model.numParameters(), V);
  const result = await runSession<Seq2SeqBatch>({
    settings: s,
    model,
    spec,
    tokenizer,
    loss: (b) =>
      tf.tidy(() => {
        const src = tf.tensor2d(b.src, [b.batchSize, b.srcLength], 'int32');
        const tgt = tf.tensor2d(b.tgtIn, [b.batchSize, b.tgtLength], 'int32');
        const srcPaddingMask = tf.equal(src, specials.pad);
        const { logits } = model.forward(src, tgt, { srcPaddingMask });
        return crossEntropy(logits, tf.tensor2d(b.tgtOut, [b.batchSize, b.tgtLength], 'int32'), { ignoreIndex: specials.pad, labelSmoothing: 0.1 });
      }),
    sample: (split, rng) => toBatch(split === 'val' ? pick(valExamples, s.batchSize, rng) : makeExamples(task, s.batchSize, rng)),
    tokensPerBatch: (b) => b.batchSize * (b.srcLength + b.tgtLength),
    output,
    resume: resumed ? { step: resumed.config.training.step, optimizer: resumed.raw.optimizerState, rng: Rng.fromState(resumed.config.training.rngState) } : undefined,
    overwrite,
    evalExtras: async () => ({ accuracy: exactMatch(await greedyDecode(model, tokenizer, valExamples.map((e) => e.source), maxTargetLength(task)), valExamples) }),
  });
  if (!result.aborted) {
    const shown = valExamples.slice(0, 5);
    const predictions = await greedyDecode(model, tokenizer, shown.map((e) => e.source), maxTargetLength(task));
    shown.forEach((e, i) => {
      if (output.json) output.write(`${JSON.stringify({ event: 'sample', source: e.source, target: e.target, prediction: predictions[i] })}\n`);
      else output.write(`  ${e.source.padEnd(32)} -> ${predictions[i]}${predictions[i] === e.target ? '' : `   (expected ${e.target})`}\n`);
    });
  }
  finish(output, s.out, result.valLoss, result.aborted);
  model.dispose();
  return result;
}

function pick<T>(items: T[], n: number, rng: Rng): T[] {
  return Array.from({ length: n }, () => items[rng.int(items.length)]);
}

/**
 * Greedy decoding of many sources at once: encode the batch, then grow the
 * targets one position per step (recomputing the decoder; targets are short).
 */
export async function greedyDecode(model: EncoderDecoderTransformer, tokenizer: Tokenizer, sources: string[], maxLength: number): Promise<string[]> {
  const { pad, bos, eos } = specialsOf(tokenizer);
  const wasTraining = model.training;
  model.eval();
  const batch = seq2seqBatch(sources.map((s) => [tokenizer.encode(s), []]), { padId: pad, bosId: bos, eosId: eos });
  const B = sources.length;
  const outputs: number[][] = sources.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  const src = tf.tensor2d(batch.src, [B, batch.srcLength], 'int32');
  const srcPaddingMask = tf.equal(src, pad);
  let memory: tf.Tensor | null = null;
  try {
    memory = model.encode(src, { srcPaddingMask }).memory;
    for (let t = 0; t < maxLength && done.includes(false); t++) {
      const tgt = outputs.map((o) => [bos, ...o]);
      const next = tf.tidy(() => {
        const { logits } = model.decode(tgt, memory!, { srcPaddingMask });
        return tf.argMax(tf.squeeze(tf.slice(logits, [0, t, 0], [B, 1, -1]), [1]), -1);
      });
      const ids = Array.from(await next.data());
      next.dispose();
      ids.forEach((id, b) => {
        if (done[b]) outputs[b].push(pad);
        else if (id === eos) done[b] = true;
        else outputs[b].push(id);
      });
    }
  } finally {
    tf.dispose([src, srcPaddingMask, ...(memory ? [memory] : [])]);
    model.train(wasTraining);
  }
  return outputs.map((o) => tokenizer.decode(o.filter((id) => id !== pad && id !== eos && id !== bos)));
}
