// Loading a checkpoint in the browser: the folder `tx export` writes
// (config.json, model.safetensors, tokenizer.json), from a URL or from files
// the user picks. The built-in models are stored in the same format.
//
//   config.json: { format: "tx-export", version: 1, task,
//                  model: { kind: "gpt", config: GPTConfig }
//                       | { kind: "encoder-decoder", config: EncoderDecoderConfig, specials: { pad, bos, eos } },
//                  files: { weights, tokenizer } }
//
// A `tx train` checkpoint's config.json ("tx-checkpoint") has the same `model`
// field and loads too.
import { EncoderDecoderTransformer, GPT, type EncoderDecoderConfig, type GPTConfig } from '@tx/blocks';
import { loadSafetensors, tf } from '@tx/core';
import { loadTokenizer, type Tokenizer } from '@tx/tokenizer';

export interface Specials { pad: number; bos: number; eos: number }

interface Common {
  name: string;
  tokenizer: Tokenizer;
  /** The parsed config.json. */
  manifest: ExportManifest;
}
export interface LoadedGPT extends Common { kind: 'gpt'; model: GPT }
export interface LoadedEncoderDecoder extends Common { kind: 'encoder-decoder'; model: EncoderDecoderTransformer; specials: Specials }
export type LoadedModel = LoadedGPT | LoadedEncoderDecoder;

export type ModelSpec = { kind: 'gpt'; config: GPTConfig } | { kind: 'encoder-decoder'; config: EncoderDecoderConfig; specials: Specials };

export interface ExportManifest {
  format: 'tx-export';
  version: 1;
  task?: string;
  model: ModelSpec;
  files: { weights: string; tokenizer: string };
  [extra: string]: unknown;
}

export interface CheckpointFiles {
  config: unknown;
  tokenizer: unknown;
  weights: Uint8Array;
}

export class CheckpointError extends Error {}

/** The manifest `tx export` writes, for a model and what the demo adds (how it was trained). */
export function exportManifest(task: string, model: ModelSpec, extra: Record<string, unknown> = {}): ExportManifest {
  return { format: 'tx-export', version: 1, task, model, files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' }, ...extra };
}

/** Check config.json: a `tx export` manifest (or a `tx train` checkpoint config). */
export function parseManifest(name: string, raw: unknown): ExportManifest {
  const o = raw as Partial<ExportManifest> & { format?: unknown };
  if (typeof o !== 'object' || o === null) throw new CheckpointError(`${name}/config.json: expected a JSON object`);
  if (o.format !== 'tx-export' && o.format !== 'tx-checkpoint') {
    throw new CheckpointError(`${name}/config.json: not a \`tx export\` folder (format is ${JSON.stringify(o.format)}, expected "tx-export")`);
  }
  const model = o.model as Partial<ModelSpec> | undefined;
  if (!model || typeof model.config !== 'object' || model.config === null) throw new CheckpointError(`${name}/config.json: "model.config" is missing`);
  if (model.kind === 'encoder-decoder') {
    const s = (model as { specials?: Partial<Specials> }).specials;
    if (!s || ![s.pad, s.bos, s.eos].every((x) => Number.isInteger(x))) throw new CheckpointError(`${name}/config.json: an encoder-decoder needs "model.specials" {pad, bos, eos}`);
  } else if (model.kind !== 'gpt') {
    throw new CheckpointError(`${name}/config.json: model kind ${JSON.stringify(model.kind)} is not supported (gpt or encoder-decoder)`);
  }
  return { files: { weights: 'model.safetensors', tokenizer: 'tokenizer.json' }, ...o, format: 'tx-export', version: 1 } as ExportManifest;
}

export function fromFiles(name: string, files: CheckpointFiles): LoadedModel {
  const manifest = parseManifest(name, files.config);
  const tokenizer = loadTokenizer(files.tokenizer);
  const spec = manifest.model;
  const model = spec.kind === 'gpt' ? new GPT(spec.config) : new EncoderDecoderTransformer(spec.config);
  let tensors: Record<string, tf.Tensor> = {};
  try {
    ({ tensors } = loadSafetensors(files.weights, `${name}/model.safetensors`));
    // GPT ties lm_head to wte; checking that the two are equal reads the GPU
    // synchronously, so keep only wte when both are there.
    if (spec.kind === 'gpt' && tensors['lm_head.weight'] && tensors['transformer.wte.weight']) {
      tensors['lm_head.weight'].dispose();
      delete tensors['lm_head.weight'];
    }
    model.loadStateDict(tensors);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  model.eval();
  const vocab = spec.kind === 'gpt' ? spec.config.vocabSize : spec.config.tgtVocabSize;
  if (tokenizer.vocabSize > vocab) {
    model.dispose();
    throw new CheckpointError(`${name}: the tokenizer has ${tokenizer.vocabSize} tokens, the model only ${vocab}`);
  }
  return spec.kind === 'gpt'
    ? { kind: 'gpt', name, model: model as GPT, tokenizer, manifest }
    : { kind: 'encoder-decoder', name, model: model as EncoderDecoderTransformer, tokenizer, manifest, specials: spec.specials };
}

export async function fromUrl(name: string, base: string): Promise<LoadedModel> {
  const url = (file: string) => new URL(file, new URL(base.endsWith('/') ? base : `${base}/`, location.href)).href;
  const get = async (file: string) => {
    const res = await fetch(url(file));
    if (!res.ok) throw new Error(`${url(file)}: HTTP ${res.status}`);
    return res;
  };
  const config = parseManifest(name, await get('config.json').then((r) => r.json()));
  const [tokenizer, weights] = await Promise.all([
    get(config.files.tokenizer).then((r) => r.json()),
    get(config.files.weights).then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  return fromFiles(name, { config, tokenizer, weights });
}

/** Files from a file picker (a `tx export` folder's three files, picked together). */
export async function fromPicked(files: FileList | File[]): Promise<LoadedModel> {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const need = (n: string) => {
    const f = byName.get(n);
    if (!f) throw new Error(`pick the export's config.json, tokenizer.json and model.safetensors together (missing ${n})`);
    return f;
  };
  const config = parseManifest('picked checkpoint', JSON.parse(await need('config.json').text()));
  return fromFiles('picked checkpoint', {
    config,
    tokenizer: JSON.parse(await need(config.files.tokenizer).text()),
    weights: new Uint8Array(await need(config.files.weights).arrayBuffer()),
  });
}
