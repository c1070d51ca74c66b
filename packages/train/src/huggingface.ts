// A Hugging Face GPT-2 folder as files already read (from disk by the CLI, by
// the browser from a picker or a URL): config.json, the weights, and the
// tokenizer as tokenizer.json, or vocab.json + merges.txt, or tx-tokenizer.json
// (ours, as `tx export --format hf` writes it). The weight mapping is
// @tx/blocks' (gptStateDictFromHuggingFace); this puts model and tokenizer
// together and checks that they fit.
import { GPT, gptConfigFromHuggingFace, gptStateDictFromHuggingFace, huggingFaceFromGPT, type GPTConfig } from '@tx/blocks';
import { Rng, TxError, tf, type StateDict } from '@tx/core';
import { BpeTokenizer, loadTokenizer, type Tokenizer } from '@tx/tokenizer';

/** The files of a Hugging Face GPT-2 folder, as the caller read them: config, tensors and tokenizer. */
export interface HuggingFaceFiles {
  /** config.json, parsed. */
  config: unknown;
  /** model.safetensors' tensors (the caller keeps and disposes them). */
  tensors: StateDict;
  /** tokenizer.json, parsed; or vocab.json and merges.txt as text; or our tx-tokenizer.json, parsed. */
  tokenizerJson?: unknown;
  vocabJson?: string;
  mergesTxt?: string;
  txTokenizer?: unknown;
}

/** Build the GPT and its tokenizer; `where` names the folder in errors. */
export function gptFromHuggingFace(files: HuggingFaceFiles, where: string): { model: GPT; tokenizer: Tokenizer; config: GPTConfig } {
  const config = gptConfigFromHuggingFace(files.config, `${where}/config.json`);
  const tokenizer = huggingFaceTokenizer(files, where);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new TxError(`${where}: the tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}`);
  }
  const model = new GPT(config, { rng: new Rng(1337) });
  const mapped = gptStateDictFromHuggingFace(files.tensors);
  try {
    model.loadStateDict(mapped);
  } catch (err) {
    model.dispose();
    throw new TxError(`${where}/model.safetensors: ${(err as Error).message}`);
  } finally {
    tf.dispose(Object.values(mapped).filter((t) => !Object.values(files.tensors).includes(t))); // the transposes made here
  }
  return { model, tokenizer, config };
}

function huggingFaceTokenizer(files: HuggingFaceFiles, where: string): Tokenizer {
  try {
    if (files.tokenizerJson !== undefined) return BpeTokenizer.fromHuggingFace(files.tokenizerJson as object);
    if (files.vocabJson !== undefined && files.mergesTxt !== undefined) return BpeTokenizer.fromVocabAndMerges(files.vocabJson, files.mergesTxt);
    if (files.txTokenizer !== undefined) return loadTokenizer(files.txTokenizer);
  } catch (err) {
    throw new TxError(`${where}: the tokenizer: ${(err as Error).message}`);
  }
  throw new TxError(`${where}: no tokenizer: expected tokenizer.json, or vocab.json and merges.txt`);
}

/** What GPT2LMHeadModel.save_pretrained writes, plus our tokenizer as tx-tokenizer.json. Dispose the tensors. */
export function huggingFaceFiles(model: GPT, tokenizer: Tokenizer): { config: Record<string, unknown>; tensors: StateDict; txTokenizer: unknown } {
  return { ...huggingFaceFromGPT(model), txTokenizer: tokenizer.toJSON() };
}
