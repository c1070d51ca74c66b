export { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { CheckpointConfig, LoadedCheckpoint, SaveCheckpointOptions, TrainingState } from './checkpoint.js';
