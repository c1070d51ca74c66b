// `tx train --task dates|copy|reverse`: an encoder-decoder Transformer learns
// to rewrite a source string into a target (a date in any human format into
// ISO 8601, or a string into itself or its reverse). Cross-attention learns
// the alignment between the two. Training uses label smoothing 0.1, as the
// paper; evaluation reports exact-match accuracy of greedy decoding.
import { EncoderDecoderTransformer, greedyTranslate, seq2seqConfig, type EncoderDecoderConfig } from '@tx/blocks';
import { Rng, tf } from '@tx/core';
import type { Tokenizer } from '@tx/tokenizer';
import { exactMatch, examplesBatch, makeExamples, maxTargetLength, seq2seqLoss, specialsOf, taskTokenizer, type Example, type Seq2SeqBatch, type Seq2SeqTask } from '@tx/train';
import { emitStart, finish } from './lm.js';
import type { OpenedCheckpoint } from './model-io.js';
import { checkMemory, memoryBudget } from './budget.js';
import { runSession, type Output, type SessionResult } from './session.js';
import type { ResolvedSettings } from './settings.js';

export async function trainSeq2Seq(s: ResolvedSettings, output: Output, resumed?: OpenedCheckpoint, { overwrite = false } = {}): Promise<SessionResult> {
  const task = s.task as Seq2SeqTask;
  const tokenizer = resumed?.tokenizer ?? taskTokenizer(task);
  const specials = specialsOf(tokenizer);
  const V = tokenizer.vocabSize;
  const config = seq2seqConfig(V, { nLayer: s.nLayer, nHead: s.nHead, dModel: s.nEmbd, blockSize: s.blockSize, dropout: s.dropout });
  const spec = { kind: 'encoder-decoder' as const, config: resumed ? (resumed.config.model.config as EncoderDecoderConfig) : config, specials };
  checkMemory('training this model', spec, { batchSize: s.batchSize, training: true }, memoryBudget(tf.getBackend()));
  const model = (resumed?.model as EncoderDecoderTransformer | undefined) ?? new EncoderDecoderTransformer(config, { rng: new Rng(s.seed) });
  // A fixed validation set; training examples are drawn fresh from the batch rng.
  const valExamples = makeExamples(task, 256, new Rng(s.seed + 7));
  const toBatch = (examples: Example[]) => examplesBatch(tokenizer, examples);

  emitStart(output, s, model.numParameters(), V);
  const result = await runSession<Seq2SeqBatch>({
    settings: s,
    model,
    spec,
    tokenizer,
    loss: (b) => seq2seqLoss(model, b, { padId: specials.pad, labelSmoothing: 0.1 }),
    sample: (split, rng) => toBatch(split === 'val' ? pick(valExamples, s.batchSize, rng) : makeExamples(task, s.batchSize, rng)),
    tokensPerBatch: (b) => b.batchSize * (b.srcLength + b.tgtLength),
    output,
    resumed,
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

/** Greedy outputs for many source texts at once (@tx/blocks' greedyTranslate), as text. */
export async function greedyDecode(model: EncoderDecoderTransformer, tokenizer: Tokenizer, sources: string[], maxLength: number): Promise<string[]> {
  const outputs = await greedyTranslate(model, sources.map((text) => tokenizer.encode(text)), specialsOf(tokenizer), maxLength);
  return outputs.map((ids) => tokenizer.decode(ids));
}
