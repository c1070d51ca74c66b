// The weights of a Hugging Face folder on disk: model.safetensors, or the
// shards that model.safetensors.index.json lists (save_pretrained's layout
// past max_shard_size). The index is a file from elsewhere, so each shard it
// names is checked before a byte of it is read:
//   - a plain file name whose real path (symlinks followed) is inside the
//     folder: "../x", "/etc/x" or a link out of the folder is refused;
//   - present, a regular file (loadSafetensorsFile opens nothing else);
//   - holding exactly the tensors the index assigns to it, no more, no fewer.
// Each problem is one TxError naming the file.
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { TxError, parseJson, tf, type StateDict } from '@tx/core';
import { CONFIG_LIMIT, loadSafetensorsFile, readTextFileWithin } from '@tx/core/node';
import { isInside, realPath } from './paths.js';

/** A folder's tensors, each one's dtype in the file, and the index's weight_map (null for one model.safetensors). */
export interface HuggingFaceWeights {
  tensors: StateDict;
  dtypes: Record<string, string>;
  weightMap: Record<string, string> | null;
}

/** Read model.safetensors, or every shard of model.safetensors.index.json, from folder `dir`; the tensors are the caller's to dispose. */
export async function readHuggingFaceWeights(dir: string): Promise<HuggingFaceWeights> {
  const exists = (name: string) => access(join(dir, name)).then(() => true, () => false);
  if (await exists('model.safetensors')) {
    const { tensors, dtypes } = await loadSafetensorsFile(join(dir, 'model.safetensors'), { requireFinite: true });
    return { tensors, dtypes, weightMap: null };
  }
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!(await exists('model.safetensors.index.json'))) throw new TxError(`${dir}: no weights: expected model.safetensors, or model.safetensors.index.json and its shards (tx reads safetensors, not pytorch_model.bin)`);
  const weightMap = parseIndex(await readTextFileWithin(indexPath, CONFIG_LIMIT), indexPath);
  const root = await realPath(dir);
  const shards = [...new Set(Object.values(weightMap))].sort();
  for (const shard of shards) {
    const path = join(dir, shard);
    if (shard.includes('/') || shard.includes('\\') || shard === '..' || !isInside(await realPath(path), root)) {
      throw new TxError(`${indexPath}: shard "${shard}" is outside the folder ${dir}; an index names files beside it`);
    }
    if (!(await exists(shard))) throw new TxError(`${indexPath}: shard "${shard}" is missing from ${dir}`);
  }
  const tensors: StateDict = {};
  const dtypes: Record<string, string> = {};
  try {
    for (const shard of shards) {
      const read = await loadSafetensorsFile(join(dir, shard), { requireFinite: true });
      Object.assign(tensors, read.tensors);
      Object.assign(dtypes, read.dtypes);
      const stray = Object.keys(read.tensors).find((name) => weightMap[name] !== shard);
      if (stray !== undefined) throw new TxError(`${join(dir, shard)}: tensor "${stray}" is not assigned to this shard by ${indexPath}`);
    }
    const absent = Object.keys(weightMap).find((name) => !Object.hasOwn(tensors, name));
    if (absent !== undefined) throw new TxError(`${join(dir, weightMap[absent])}: tensor "${absent}" is missing (${indexPath} puts it there)`);
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { tensors, dtypes, weightMap };
}

function parseIndex(text: string, where: string): Record<string, string> {
  const index = parseJson(text, where);
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map) || Object.keys(map).length === 0) throw new TxError(`${where}: weight_map must be an object of tensor names to shard files`);
  const bad = Object.entries(map).find(([, file]) => typeof file !== 'string' || file === '');
  if (bad) throw new TxError(`${where}: weight_map["${bad[0]}"] must be a shard's file name, got ${JSON.stringify(bad[1])}`);
  return map as Record<string, string>;
}
