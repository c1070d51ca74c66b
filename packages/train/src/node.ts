export { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { CheckpointConfig, LoadedCheckpoint, SaveCheckpointOptions, TrainingState } from './checkpoint.js';
export { MANIFEST, findCompleteCopy, listCopies, recoverFolder, replaceFolder } from './folder.js';
export type { FolderCopy, ReplaceFolderOptions, SwapStep } from './folder.js';
export { loadModel } from './load-node.js';
