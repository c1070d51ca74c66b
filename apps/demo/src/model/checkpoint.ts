// Loading a model folder in the browser, from a URL or from files the user
// picks: what `tx export` writes (config.json, model.safetensors,
// tokenizer.json; @tx/train's manifest), or a `tx train` checkpoint. The
// built-in models are stored in the same format.
import { buildModel, modelVocabSize, type Encoder, type EncoderDecoderTransformer, type GPT } from '@tx/blocks';
import { TxError, loadSafetensors, tf } from '@tx/core';
import { WordTokenizer, loadTokenizer, type Tokenizer } from '@tx/tokenizer';
import { parseManifest, type TxExportManifest } from '@tx/train';
import type { Seq2SeqSpecials } from '@tx/blocks';

interface Common {
  name: string;
  tokenizer: Tokenizer;
  /** The parsed config.json. */
  manifest: TxExportManifest;
}
export interface LoadedGPT extends Common { kind: 'gpt'; model: GPT }
export interface LoadedEncoderDecoder extends Common { kind: 'encoder-decoder'; model: EncoderDecoderTransformer; specials: Seq2SeqSpecials }
/** The coref model: an encoder over words whose pointer head says what "it" refers to. */
export interface LoadedEncoder extends Common { kind: 'encoder'; model: Encoder; tokenizer: WordTokenizer }
export type LoadedModel = LoadedGPT | LoadedEncoderDecoder | LoadedEncoder;

export interface CheckpointFiles {
  config: unknown;
  tokenizer: unknown;
  weights: Uint8Array;
}

export function fromFiles(name: string, files: CheckpointFiles): LoadedModel {
  const manifest = parseManifest(files.config, `${name}/config.json`);
  const tokenizer = loadTokenizer(files.tokenizer);
  const spec = manifest.model;
  if (tokenizer.vocabSize > modelVocabSize(spec)) throw new TxError(`${name}: the tokenizer has ${tokenizer.vocabSize} tokens, the model only ${modelVocabSize(spec)}`);
  if (spec.kind === 'encoder' && !(tokenizer instanceof WordTokenizer)) throw new TxError(`${name}: an encoder reads words: expected a word tokenizer, found kind "${tokenizer.kind}"`);
  const model = buildModel(spec);
  let tensors: Record<string, tf.Tensor> = {};
  try {
    ({ tensors } = loadSafetensors(files.weights, `${name}/model.safetensors`));
    model.loadStateDict(tensors); // a GPT's lm_head is tied to wte (@tx/blocks)
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  model.eval();
  if (spec.kind === 'gpt') return { kind: 'gpt', name, model: model as GPT, tokenizer, manifest };
  if (spec.kind === 'encoder') return { kind: 'encoder', name, model: model as Encoder, tokenizer: tokenizer as WordTokenizer, manifest };
  return { kind: 'encoder-decoder', name, model: model as EncoderDecoderTransformer, tokenizer, manifest, specials: spec.specials };
}

export async function fromUrl(name: string, base: string): Promise<LoadedModel> {
  const url = (file: string) => new URL(file, new URL(base.endsWith('/') ? base : `${base}/`, location.href)).href;
  const get = async (file: string) => {
    const res = await fetch(url(file));
    if (!res.ok) throw new Error(`${url(file)}: HTTP ${res.status}`);
    return res;
  };
  const config = parseManifest(await get('config.json').then((r) => r.json()), `${name}/config.json`);
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
  const config = parseManifest(JSON.parse(await need('config.json').text()), 'picked checkpoint/config.json');
  return fromFiles('picked checkpoint', {
    config,
    tokenizer: JSON.parse(await need(config.files.tokenizer).text()),
    weights: new Uint8Array(await need(config.files.weights).arrayBuffer()),
  });
}
