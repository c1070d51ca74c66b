// What a model folder's config.json says, for every app that reads or writes one:
//   "tx-checkpoint"  a training run (`tx train`): { format, version, task, settings, model, training }
//   "tx-export"      the files a site loads (`tx export`, the demo's built-ins):
//                    { format, version, task, model, files: { weights, tokenizer } }
// `model` is @tx/blocks' ModelSpec (kind, config, specials); buildModel turns
// it into a model. Browser-safe: no file system here (see ./node for folders).
import { parseModelSpec, type ModelSpec } from '@tx/blocks';
import { TxError, type RngState } from '@tx/core';

/** The config.json of a checkpoint that tx writes: format, task, settings, model spec and training state. */
export interface TxCheckpointConfig<Settings = Record<string, unknown>> {
  format: 'tx-checkpoint';
  version: 1;
  task: string;
  /** The settings the run was started with (the trainer's; kept as they were written). */
  settings: Settings;
  model: ModelSpec;
  training: { step: number; rngState: RngState; modelRngState: RngState; valLoss?: number };
  [extra: string]: unknown;
}

/** The config.json of a `tx export` folder, which the demo site loads: the model spec and the file names. */
export interface TxExportManifest {
  format: 'tx-export';
  version: 1;
  task?: string;
  model: ModelSpec;
  files: { weights: string; tokenizer: string };
  [extra: string]: unknown;
}

/** The manifest `tx export` writes, plus what a writer adds (how the model was trained). */
export function exportManifest(task: string, model: ModelSpec, extra: Record<string, unknown> = {}): TxExportManifest {
  return { format: 'tx-export', version: 1, task, model, files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' }, ...extra };
}

/**
 * Check a parsed config.json of either format and return what loading needs
 * (a checkpoint's config reads as an export of the same files). `where`
 * names the file in errors.
 */
export function parseManifest(raw: unknown, where: string): TxExportManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TxError(`${where}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.format !== 'tx-export' && o.format !== 'tx-checkpoint') {
    throw new TxError(`${where}: not a tx model folder (format is ${JSON.stringify(o.format)}, expected "tx-export" or "tx-checkpoint")`);
  }
  const files = { weights: 'model.safetensors', tokenizer: 'tokenizer.json', ...(o.files as object | undefined) };
  return { ...o, format: 'tx-export', version: 1, model: parseModelSpec(o.model, where), files } as TxExportManifest;
}
