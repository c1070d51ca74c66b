export { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { CheckpointConfig, LoadedCheckpoint, SaveCheckpointOptions, TrainingState } from './checkpoint.js';
export { MANIFEST, MARKER, checkReplaceable, findCompleteCopy, listCopies, recoverFolder, replaceFolder } from './folder.js';
export type { FolderCopy, ReplaceFolderOptions, SwapStep } from './folder.js';
export { fileKind, isInside, makeFolder, realPath, sameFile } from './paths.js';
export { loadModel } from './load-node.js';
export { readHuggingFaceWeights } from './huggingface-shards.js';
export { readFolderJson, readFolderText, readHuggingFaceTokenizers } from './huggingface-folder.js';
export type { HuggingFaceWeights } from './huggingface-shards.js';
