// A `tx export` folder's files, already read, as a model: config.json
// (@tx/train's manifest, or a `tx train` checkpoint's config),
// model.safetensors and tokenizer.json. The built-in models are stored in
// this format; folder.ts reads folders (and Hugging Face's) from a URL or
// the file picker.
import { buildModel, modelVocabSize, type Encoder, type EncoderDecoderTransformer, type GPT, type Llama } from '@tx/blocks';
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
/** A Llama-family decoder (Llama, Mistral, Qwen2): RoPE, RMSNorm, grouped-query attention; it drives the views a GPT drives. */
export interface LoadedLlama extends Common { kind: 'llama'; model: Llama }
/** A decoder-only language model: what views 1, 2, 3 and 5 run. */
export type LoadedDecoder = LoadedGPT | LoadedLlama;
export type LoadedModel = LoadedGPT | LoadedLlama | LoadedEncoderDecoder | LoadedEncoder;

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
  if (spec.kind === 'llama') return { kind: 'llama', name, model: model as Llama, tokenizer, manifest };
  if (spec.kind === 'encoder') return { kind: 'encoder', name, model: model as Encoder, tokenizer: tokenizer as WordTokenizer, manifest };
  return { kind: 'encoder-decoder', name, model: model as EncoderDecoderTransformer, tokenizer, manifest, specials: spec.specials };
}
