// A model whose embedding has more rows than its tokenizer has tokens (Qwen2
// pads its vocabulary to a multiple of 128: 151,936 rows for 151,665
// tokens) can rank a row no text stands for among its likeliest tokens.
// Sampling one would be a token tx cannot print; listing one among the
// alternatives (`tx sample --json`'s top) cannot be decoded either. So `tx
// sample` reads such a model through this view: those rows' logits are
// -Infinity, which every sampling rule gives probability 0.
import type { DecodingSession, LanguageModel, StepOutput } from '@tx/core';

/** The model with the logits of ids >= `tokens` set to -Infinity; the same model when it has no such rows. */
export function withinTokenizer<M extends LanguageModel & { dispose?(): void }>(model: M, tokens: number): LanguageModel & { dispose?(): void } {
  if (model.vocabSize <= tokens) return model;
  const mask = (session: DecodingSession): DecodingSession => ({
    async feed(ids: readonly number[]): Promise<StepOutput> {
      const step = await session.feed(ids);
      step.logits.fill(-Infinity, tokens);
      return step;
    },
    fork: () => mask(session.fork()),
    dispose: () => session.dispose(),
  });
  return {
    vocabSize: model.vocabSize,
    blockSize: model.blockSize,
    startSession: (options) => mask(model.startSession(options)),
    dispose: () => model.dispose?.(),
  };
}
