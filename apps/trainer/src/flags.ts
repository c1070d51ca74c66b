// Every flag of every tx command, in one table per command: `parse` reads the
// command line with it, and `tx COMMAND --help` is printed from it, so the two
// cannot drift. Adding a flag is one line here, with its description; the
// command then finds it in `values` (kebab-case, as typed).
import { TRAIN_FIELDS } from './schema.js';

/** `tx train --log-interval`'s default: 15 lines for the names run's 1,500 steps, 20 for nanoGPT's 2,000 on --task text. */
export const DEFAULT_LOG_INTERVAL = 100;

/** One flag: how it is parsed and what `tx COMMAND --help` says about it. */
export interface Flag {
  /** A 'string' flag takes a value (`--seed 7`, `--seed=7`); a 'boolean' flag takes none. */
  type: 'string' | 'boolean';
  /** What help shows for the value: DIR, FILE, N, X, TEXT, or the choices (`crop|restart`). */
  value?: string;
  /** What the flag does, one line for help; say the default there. */
  help: string;
  /** The command refuses to run without it (checked by parse, shown without brackets). */
  required?: boolean;
  /** `tx train` only: the settings field (schema.ts) that checks the value and that it sets. */
  field?: keyof typeof TRAIN_FIELDS;
}

/** A command's flags, by name as typed without the dashes. */
export type Spec = Record<string, Flag>;

/** The choices of a train settings field, as help shows them: `names|text|dates|copy|reverse`. */
const choices = (field: keyof typeof TRAIN_FIELDS): string => {
  const f = TRAIN_FIELDS[field] as { values?: readonly string[] };
  return f.values ? f.values.join('|') : 'VALUE';
};

const backend = (what = 'the tfjs backend'): Flag => ({
  type: 'string',
  value: 'auto|webgpu|wasm|cpu',
  help: `${what} (default auto: webgpu where there is a GPU and the optional webgpu packages, else wasm)`,
});
const threads: Flag = { type: 'string', value: 'N', help: 'threads for the wasm kernels (default: TX_THREADS, else the number of cores); results do not depend on it' };
const json: Flag = { type: 'boolean', help: 'print JSON (one object per line) instead of text' };
const force: Flag = { type: 'boolean', help: 'replace --out even when it holds something tx did not write' };
const checkpoint: Flag = { type: 'string', value: 'DIR', required: true, help: 'the checkpoint folder (what tx train --out wrote)' };

export const TRAIN_FLAGS = {
  task: { type: 'string', value: choices('task'), field: 'task', help: 'what to learn (default names: a GPT on ~8,800 English first names)' },
  data: { type: 'string', value: 'FILE', field: 'data', help: 'the UTF-8 text to learn, for --task text (first 90% train, the rest validation)' },
  tokenizer: { type: 'string', value: choices('tokenizer'), field: 'tokenizer', help: 'character level, or byte-level BPE trained on --data (default char)' },
  'vocab-size': { type: 'string', value: 'N', field: 'vocabSize', help: 'the BPE vocabulary size, 256 bytes plus merges (default 512)' },
  preset: { type: 'string', value: 'NAME', field: 'preset', help: 'a model size from @tx/blocks: nanogpt-cpu, shakespeare-char, gpt2, mini-transformer, llama-mini (a Llama-family model)' },
  config: { type: 'string', value: 'FILE', help: 'a JSON file of settings: these flags\' in camelCase (maxIters), and those listed below; flags override it' },
  'max-iters': { type: 'string', value: 'N', field: 'maxIters', help: 'optimizer steps (the task sets the default)' },
  'batch-size': { type: 'string', value: 'N', field: 'batchSize', help: 'sequences per step' },
  lr: { type: 'string', value: 'X', field: 'lr', help: 'the peak learning rate (cosine decay to minLr after warm-up)' },
  'eval-interval': { type: 'string', value: 'N', field: 'evalInterval', help: 'steps between evaluations; a checkpoint is saved at each' },
  'log-interval': { type: 'string', value: 'N', help: `steps between log lines (iter, mean loss, ms/iter, tok/s, ETA; default ${DEFAULT_LOG_INTERVAL}): the loss is read back from the device only then, so a GPU is never stalled between; --json reports every step (reading each loss back), or one step event per N steps when --log-interval is given` },
  out: { type: 'string', value: 'DIR', field: 'out', help: 'where the checkpoint goes (default runs/TASK)' },
  force,
  resume: { type: 'string', value: 'DIR', field: 'resume', help: 'continue a checkpoint\'s run; takes --max-iters, --eval-interval, --backend, --out, --data' },
  backend: { ...backend(), value: choices('backend'), field: 'backend' },
  seed: { type: 'string', value: 'N', field: 'seed', help: 'seeds data order, initialisation and samples (default 1337)' },
  threads,
  json: { ...json, help: 'one JSON event per line: start, step, eval, sample, done or interrupted' },
} satisfies Spec;

export const SAMPLE_FLAGS = {
  checkpoint,
  prompt: { type: 'string', value: 'TEXT', help: 'the text to continue; for a seq2seq checkpoint, the source to rewrite' },
  start: { type: 'string', value: 'FILE', help: 'the prompt is this file\'s text, as it is (nanoGPT\'s --start=FILE:prompt.txt)' },
  'num-samples': { type: 'string', value: 'N', help: 'how many samples, sample i seeded with seed + i (default 1); text samples are separated by a line of dashes, names are one per line' },
  'max-new-tokens': { type: 'string', value: 'N', help: 'tokens to generate (default 30 for names, 200 for text)' },
  temperature: { type: 'string', value: 'T', help: 'divides the logits before sampling (default 1)' },
  'top-k': { type: 'string', value: 'K', help: 'sample among the K likeliest tokens only' },
  'top-p': { type: 'string', value: 'P', help: 'sample among the likeliest tokens whose probabilities add up to P, in (0, 1]' },
  greedy: { type: 'boolean', help: 'always take the likeliest token' },
  beams: { type: 'string', value: 'N', help: 'beam search with N beams instead of sampling' },
  seed: { type: 'string', value: 'N', help: 'seeds the sampling (default 1337)' },
  'context-overflow': { type: 'string', value: 'crop|restart', help: 'past the context: crop (default, nanoGPT\'s: every token sees the last blockSize tokens) or restart (faster)' },
  backend: backend(),
  threads,
  json: { ...json, help: 'one JSON object per token ({id, text, logprob, top}), then {done, text, ids, tokensPerSecond}' },
} satisfies Spec;

export const EVAL_FLAGS = {
  checkpoint,
  data: { type: 'string', value: 'FILE', help: 'the text to score (default: the checkpoint\'s validation split)' },
  backend: backend(),
  threads,
  json,
} satisfies Spec;

export const INSPECT_FLAGS = {
  checkpoint,
  text: { type: 'string', value: 'TEXT', required: true, help: 'the text to run through the model; for an encoder-decoder, the source' },
  target: { type: 'string', value: 'TEXT', help: 'encoder-decoder: the target to score (default: the model\'s own prediction)' },
  layers: { type: 'string', value: 'LIST', help: 'only these layers\' attention, such as 0,2 or 0-3 (default all)' },
  heads: { type: 'string', value: 'LIST', help: 'only these heads\' attention, such as 0,2 or 0-3 (default all)' },
  'no-logits': { type: 'boolean', help: 'leave the logits out of the output' },
  backend: backend(),
  threads,
  json: { ...json, help: 'everything as one JSON object: tokens, ids, logits, attention[layer][head][query][key], loss' },
} satisfies Spec;

export const IMPORT_FLAGS = {
  weights: { type: 'string', value: 'FILE.safetensors', help: 'nanogpt: the state_dict saved as safetensors' },
  'model-args': { type: 'string', value: 'JSON', help: 'nanogpt: its model_args dict, e.g. \'{"n_layer": 4, "n_head": 4, ...}\'' },
  'vocab-from': { type: 'string', value: 'TEXTFILE', help: 'nanogpt: the vocabulary is this file\'s sorted distinct characters' },
  vocab: { type: 'string', value: 'CHARS', help: 'nanogpt: the vocabulary itself, in id order' },
  dir: { type: 'string', value: 'DIR', help: 'hf: a Hugging Face GPT-2 folder (config.json, model.safetensors, tokenizer files)' },
  out: { type: 'string', value: 'DIR', required: true, help: 'where the checkpoint goes' },
  force,
  backend: backend(),
} satisfies Spec;

export const EXPORT_FLAGS = {
  checkpoint,
  out: { type: 'string', value: 'DIR', required: true, help: 'where the files go' },
  format: { type: 'string', value: 'tx-export|hf|nanogpt', help: 'the demo site\'s files (default), a Hugging Face GPT-2 folder, or nanoGPT\'s state_dict and model_args' },
  force,
  backend: backend(),
} satisfies Spec;

export const BENCH_FLAGS = {
  preset: { type: 'string', value: 'NAME', help: 'the model to time: nanogpt-cpu (default), shakespeare-char, gpt2, llama-mini' },
  backend: backend(),
  threads,
  'batch-size': { type: 'string', value: 'N', help: 'sequences per training step (default 12)' },
  steps: { type: 'string', value: 'N', help: 'training steps timed, after 2 warm-up steps (default 10)' },
  'new-tokens': { type: 'string', value: 'N', help: 'tokens generated per timing (default 4 x the context, at most 500)' },
  json,
} satisfies Spec;
