// `tx train` settings: task defaults, then a preset, then a --config file,
// then flags (each later one wins). A resumed run starts from the settings
// saved in its checkpoint.
import { presets, type EncoderDecoderConfig, type GPTConfig, type LlamaConfig } from '@tx/blocks';
import { COREF_MAX_LENGTH } from '@tx/train';
import { ConfigError, type TrainSettings } from './schema.js';

export type Task = 'names' | 'text' | 'dates' | 'copy' | 'reverse' | 'coref';

/** Everything a run needs, resolved. */
export interface ResolvedSettings {
  task: Task;
  data: string | null;
  tokenizer: 'char' | 'bpe';
  vocabSize: number;
  maxIters: number;
  batchSize: number;
  lr: number;
  minLr: number;
  warmupIters: number;
  weightDecay: number;
  beta2: number;
  gradClip: number;
  evalInterval: number;
  evalIters: number;
  out: string;
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  seed: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  dropout: number;
  bias: boolean;
  /** The architecture: a GPT (absent, the default) or a Llama-family decoder ('llama', set by --preset llama-mini). */
  model?: 'gpt' | 'llama';
}

const COMMON = { tokenizer: 'char', vocabSize: 512, weightDecay: 0.1, beta2: 0.99, gradClip: 1.0, evalIters: 20, backend: 'auto', seed: 1337, bias: false } as const;

/**
 * Task defaults. `names` is sized to finish in about a minute on 2 cores (1,500 steps at under 40 ms with @tx's wasm kernels);
 * `text` is nanoGPT's CPU configuration (docs/performance.md §5); the seq2seq tasks are a
 * small encoder-decoder (nLayer layers each side, dModel = nEmbd).
 */
export const TASK_DEFAULTS: Record<Task, Omit<ResolvedSettings, 'task' | 'data' | 'out'>> = {
  names: { ...COMMON, maxIters: 1500, batchSize: 32, lr: 3e-3, minLr: 3e-4, warmupIters: 50, evalInterval: 250, nLayer: 3, nHead: 4, nEmbd: 64, blockSize: 16, dropout: 0 },
  text: { ...COMMON, maxIters: 2000, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupIters: 100, evalInterval: 250, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0 },
  dates: { ...COMMON, maxIters: 1200, batchSize: 32, lr: 2e-3, minLr: 2e-4, warmupIters: 50, evalInterval: 200, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 48, dropout: 0, weightDecay: 0.01 },
  copy: { ...COMMON, maxIters: 600, batchSize: 32, lr: 2e-3, minLr: 2e-4, warmupIters: 50, evalInterval: 200, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 16, dropout: 0, weightDecay: 0.01 },
  reverse: { ...COMMON, maxIters: 1000, batchSize: 32, lr: 2e-3, minLr: 2e-4, warmupIters: 50, evalInterval: 200, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 16, dropout: 0, weightDecay: 0.01 },
  // An encoder over words (blockSize: the longest sentence it reads); the pointer is head 0 of its last layer.
  coref: { ...COMMON, maxIters: 400, batchSize: 32, lr: 3e-3, minLr: 3e-4, warmupIters: 50, evalInterval: 100, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 32, dropout: 0, weightDecay: 0.01 },
};

/** Fields a preset sets, by preset name (`tx train --preset nanogpt-cpu`). */
function presetFields(name: string): Partial<ResolvedSettings> {
  const gpt = (presets as Record<string, unknown>)[name] as GPTConfig | EncoderDecoderConfig | LlamaConfig | undefined;
  if (!gpt) throw new ConfigError(`unknown preset "${name}" (known: ${Object.keys(presets).join(', ')})`);
  if ('nKvHead' in gpt) return { model: 'llama', nLayer: gpt.nLayer, nHead: gpt.nHead, nEmbd: gpt.nEmbd, blockSize: gpt.blockSize, dropout: 0, bias: false };
  if ('nEmbd' in gpt) return { nLayer: gpt.nLayer, nHead: gpt.nHead, nEmbd: gpt.nEmbd, blockSize: gpt.blockSize, dropout: gpt.dropout, bias: gpt.bias };
  return { nLayer: gpt.nEncoderLayer, nHead: gpt.nHead, nEmbd: gpt.dModel, blockSize: gpt.blockSize, dropout: gpt.dropout, bias: gpt.bias };
}

export function resolveSettings(layers: TrainSettings[]): ResolvedSettings {
  const merged: TrainSettings = Object.assign({}, ...layers);
  const task = (merged.task ?? 'names') as Task;
  if (task === 'text' && !merged.data) throw new ConfigError('--task text needs --data FILE (a UTF-8 text file)');
  if (task !== 'text' && merged.data) throw new ConfigError(`--data is for --task text; the ${task} task makes its own data`);
  const resolved = {
    ...TASK_DEFAULTS[task],
    ...(merged.preset ? presetFields(merged.preset) : {}),
    ...strip(merged),
    task,
    data: merged.data ?? null,
    out: merged.out ?? `runs/${task}`,
  } as ResolvedSettings;
  if (resolved.nEmbd % resolved.nHead !== 0) throw new ConfigError(`nEmbd (${resolved.nEmbd}) must be divisible by nHead (${resolved.nHead})`);
  if (resolved.minLr > resolved.lr) throw new ConfigError(`minLr (${resolved.minLr}) must not exceed lr (${resolved.lr})`);
  if (task === 'coref' && resolved.blockSize < COREF_MAX_LENGTH) throw new ConfigError(`--task coref needs blockSize >= ${COREF_MAX_LENGTH} (its longest sentence, in words), got ${resolved.blockSize}`);
  return resolved;
}

function strip(s: TrainSettings): Partial<ResolvedSettings> {
  const { preset: _preset, json: _json, resume: _resume, ...rest } = s;
  return rest as Partial<ResolvedSettings>;
}
