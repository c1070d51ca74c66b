/**
 * `@tx/train`: losses, AdamW, schedules, batches and the training loop. Checkpoint files are in `@tx/train/node`.
 * @module index
 */
export { crossEntropy } from './loss.js';
export type { CrossEntropyOptions } from './loss.js';
export { AdamW, clipGradNorm, clipScale } from './adamw.js';
export type { AdamWOptions } from './adamw.js';
export { constant, cosineWithWarmup, inverseSqrt } from './schedule.js';
export type { Schedule } from './schedule.js';
export { TokenDataset, pointerBatch, seq2seqBatch } from './data.js';
export type { Batch, PointerBatch, Seq2SeqBatch } from './data.js';
export { TrainingError, deferredTrainStep, estimateLoss, trainLoop, trainStep } from './loop.js';
export type { TrainEvent, TrainLoopOptions, TrainStepOptions } from './loop.js';
export { languageModelLoss, pointerInputs, pointerLoss, seq2seqLoss } from './losses.js';
export type { LanguageModelLike, PointerModelLike, Seq2SeqModelLike } from './losses.js';
export { exportManifest, parseManifest } from './manifest.js';
export { gptFromHuggingFace, huggingFaceFiles } from './huggingface.js';
export { huggingFaceFolderFromLlama, llamaFromHuggingFace, storedDtype } from './huggingface-llama.js';
export type { HuggingFaceLayout, LlamaFolderFiles } from './huggingface-llama.js';
export { modelFromFiles, modelFromHuggingFace } from './load.js';
export type { GenerationDefaults, LoadedEncoder, LoadedEncoderDecoder, LoadedGPT, LoadedLlama, LoadedModel, ModelFiles } from './load.js';
export type { HuggingFaceFiles } from './huggingface.js';
export type { TxCheckpointConfig, TxExportManifest } from './manifest.js';
export { DATE_FORMATS, SEQ2SEQ_SPECIALS, exactMatch, examplesBatch, makeExamples, maxTargetLength, randomDate, specialsOf, taskAlphabet, taskTokenizer } from './tasks.js';
export type { Example, Seq2SeqTask } from './tasks.js';
export { COREF_GRAMMAR, COREF_MAX_LENGTH, COREF_SPECIALS, PRONOUNS, corefBatch, corefReading, corefSentence, corefTokenizer, corefTriples, evaluateCoref, findPronouns, isHeldOut, makeCorefExamples } from './coref.js';
export type { CorefExample, CorefReading, CorefScore } from './coref.js';
