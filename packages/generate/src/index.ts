export { applyProcessors, argmax, logSoftmax, repetitionPenalty, softmax, temperature, topIndices, topK, topP } from './processors.js';
export type { LogitsProcessor, ProcessorContext } from './processors.js';
export { generate, processorsFor, sample, streamTokens } from './generate.js';
export type { FinishReason, GenerateIdsResult, GenerateOptions, GenerateResult, GenerateTextOptions, GeneratedId, GeneratedToken, IdChoice, TokenChoice } from './generate.js';
export { beamSearch } from './beam.js';
export type { BeamResult, BeamSearchOptions } from './beam.js';
export { streamingText } from './text.js';
export type { StreamingText, TextDecoderLike } from './text.js';
export type { ContextOverflow, DecodingSession, LanguageModel, SessionOptions, StepOutput } from '@tx/core';
