export { runCli, UsageError } from './run.js';
export type { Io } from './run.js';
export { trainNames } from './train-names.js';
export type { TrainEvent, TrainOptions } from './train-names.js';
export { Bigram, CharVocab } from './bigram.js';
export { loadNames } from './names.js';
