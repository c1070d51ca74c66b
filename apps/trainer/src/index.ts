export { runCli, UsageError, HELP } from './run.js';
export type { Io } from './run.js';
export { resolveSettings, TASK_DEFAULTS } from './settings.js';
export type { ResolvedSettings, Task } from './settings.js';
export { openCheckpoint, readCheckpointConfig } from './model-io.js';
export type { ModelSpec, OpenedCheckpoint, TxCheckpointConfig } from './model-io.js';
export { loadNames } from './names.js';
