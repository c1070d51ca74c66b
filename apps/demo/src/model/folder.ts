// A model folder, from the file picker or a URL: what `tx export` writes (the
// built-ins too), or a Hugging Face GPT-2 or Llama-family folder (Llama,
// Mistral, Qwen2; model.safetensors, or the shards its index lists). config.json is read first:
// lib/files.ts says which files to read, and `check` may refuse the model
// (too big for the backend) before a byte of the weights is read. The weights
// and tokenizer then stream in, reported to a progress bar; a GPT-2 file of
// 500 MB is read into one buffer of its size (lib/read.ts).
import { TxError, loadSafetensors, tf, type StateDict } from '@tx/core';
import { exportManifest, gptFromHuggingFace, llamaFromHuggingFace, parseManifest, type HuggingFaceFiles } from '@tx/train';
import { INDEX, findHuggingFaceFiles, planFolder, shardsOf, type DecoderSpec } from '../lib/files.js';
import { Progress } from '../lib/progress.js';
import { readStream } from '../lib/read.js';
import { fromFiles, type LoadedModel } from './checkpoint.js';

/** A file's bytes as they arrive, and its size when known. */
export interface FolderFile {
  body: ReadableStream<Uint8Array>;
  size: number | null;
}

export interface Folder {
  /** The folder, in messages ("picked files", or the URL). */
  where: string;
  /** The names of its files when known up front (picked), else null (a URL). */
  listed: string[] | null;
  /** Whether a file is there (a URL asks the server with HEAD). */
  has(name: string): Promise<boolean>;
  /** A file, or an error naming it. */
  open(name: string): Promise<FolderFile>;
}

/** Files picked together (a folder's files, or the whole folder's). */
export function pickedFolder(files: Iterable<File>): Folder {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const listed = [...byName.keys()];
  return {
    where: 'the picked files',
    listed,
    has: async (name) => byName.has(name),
    open: async (name) => {
      const f = byName.get(name);
      if (!f) throw new Error(`missing ${name}: pick it with the model's other files (picked: ${listed.join(', ') || 'nothing'})`);
      return { body: f.stream(), size: f.size };
    },
  };
}

/** A folder on a web server, by its base URL (a Hugging Face repository's is https://huggingface.co/NAME/resolve/main/). */
export function urlFolder(base: string, fetcher: typeof fetch = fetch.bind(globalThis)): Folder {
  const root = new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  const url = (name: string) => new URL(name, root).href;
  return {
    where: root.href.replace(/\/$/, ''),
    listed: null,
    has: async (name) => (await fetcher(url(name), { method: 'HEAD' }).catch(() => null))?.ok === true,
    open: async (name) => {
      const res = await fetcher(url(name));
      if (!res.ok || !res.body) throw new Error(`${url(name)}: HTTP ${res.status}`);
      // A compressed response's Content-Length counts the compressed bytes, not those the stream gives.
      const length = res.headers.get('content-encoding') ? null : res.headers.get('content-length');
      return { body: res.body, size: length === null ? null : Number(length) };
    },
  };
}

export interface LoadOptions {
  /** The model's name in the page (default: from config.json or the folder). */
  name?: string;
  /** Called as bytes arrive, with the whole folder's progress. */
  onProgress?: (progress: Progress) => void;
  /** Throw, saying why, if the backend cannot hold this GPT or Llama: called before the weights are read. */
  check?: (spec: DecoderSpec) => void;
}

/** Load a `tx export` folder, or a Hugging Face GPT-2 or Llama-family one. Errors are one line that names the file or field. */
export async function loadFolder(folder: Folder, { name, onProgress = () => {}, check = () => {} }: LoadOptions = {}): Promise<LoadedModel> {
  const progress = new Progress();
  // Opening a file counts its size in the bar; reading it counts its bytes. Shards are all opened
  // first, so that the bar knows the whole folder's size while they are read one after another.
  const open = async (file: string): Promise<FolderFile> => {
    const opened = await folder.open(file);
    progress.start(file, opened.size);
    onProgress(progress);
    return opened;
  };
  const read = async (file: string, opened?: Promise<FolderFile>): Promise<Uint8Array> => {
    const { body, size } = await (opened ?? open(file));
    const bytes = await readStream(body, size, (n) => { progress.add(file, n); onProgress(progress); });
    progress.finish(file);
    onProgress(progress);
    return bytes;
  };
  const text = async (file: string) => new TextDecoder().decode(await read(file));
  const json = async (file: string): Promise<unknown> => {
    const t = await text(file);
    try {
      return JSON.parse(t);
    } catch (err) {
      throw new Error(`${folder.where}/${file}: not JSON (${(err as Error).message})`);
    }
  };

  const config = await json('config.json');
  const plan = planFolder(config, folder.listed ?? (isTx(config) ? null : await findHuggingFaceFiles(folder.has)), folder.where);
  if (plan.kind === 'tx') {
    const manifest = parseManifest(config, `${folder.where}/config.json`);
    const spec = manifest.model;
    if (spec.kind === 'gpt' || spec.kind === 'llama') check(spec);
    const [tokenizer, weights] = await Promise.all([json(plan.tokenizer), read(plan.weights)]);
    return fromFiles(name ?? nameOf(config, folder.where), { config: manifest, tokenizer, weights });
  }
  // The index is read before the check (it is small, and names the shards), no shard before it.
  const sharded = plan.weights === INDEX ? shardsOf(await json(INDEX), folder.listed, folder.where) : null;
  check(plan.spec);
  const tokenizerFiles: Partial<HuggingFaceFiles> = {};
  const tensors: StateDict = {};
  const readWeights = async (file: string, opened: Promise<FolderFile>) => {
    const { tensors: got } = loadSafetensors(await read(file, opened), `${folder.where}/${file}`);
    Object.assign(tensors, got);
    // Each shard holds exactly what the index puts in it (a stray or missing tensor is a broken folder, not a silently wrong model).
    const stray = sharded ? Object.keys(got).find((name) => sharded.weightMap[name] !== file) : undefined;
    if (stray !== undefined) throw new TxError(`${folder.where}/${file}: tensor "${stray}" is not assigned to this shard by ${INDEX}`);
  };
  await Promise.all([
    // Shards one after another: each is decoded and uploaded before the next is read, so at most one shard's bytes are held.
    (async () => {
      const files = sharded?.shards ?? ['model.safetensors'];
      const opened = files.map((file) => open(file));
      opened.forEach((p) => p.catch(() => {})); // a failure is reported when its turn comes
      for (const [i, file] of files.entries()) await readWeights(file, opened[i]);
    })(),
    ...plan.tokenizer.map(async (file) => {
      if (file === 'tokenizer.json') tokenizerFiles.tokenizerJson = await json(file);
      else if (file === 'vocab.json') tokenizerFiles.vocabJson = await text(file);
      else if (file === 'merges.txt') tokenizerFiles.mergesTxt = await text(file);
      else tokenizerFiles.txTokenizer = await json(file);
    }),
  ]).catch((err) => {
    tf.dispose(Object.values(tensors));
    throw err;
  });
  try {
    const absent = sharded ? Object.keys(sharded.weightMap).find((n) => !Object.hasOwn(tensors, n)) : undefined;
    if (absent !== undefined) throw new TxError(`${folder.where}/${sharded!.weightMap[absent]}: tensor "${absent}" is missing (${INDEX} puts it there)`);
    const modelName = name ?? nameOf(config, folder.where);
    if (plan.spec.kind === 'llama') {
      const { model, tokenizer, config: llama } = llamaFromHuggingFace({ config, tensors, tokenizerJson: tokenizerFiles.tokenizerJson, txTokenizer: tokenizerFiles.txTokenizer }, folder.where);
      model.eval();
      return { kind: 'llama', name: modelName, model, tokenizer, manifest: exportManifest('huggingface', { kind: 'llama', config: llama }) };
    }
    const { model, tokenizer, config: gpt } = gptFromHuggingFace({ config, tensors, ...tokenizerFiles }, folder.where);
    model.eval();
    return { kind: 'gpt', name: modelName, model, tokenizer, manifest: exportManifest('huggingface', { kind: 'gpt', config: gpt }) };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

function isTx(config: unknown): boolean {
  return typeof config === 'object' && config !== null && 'format' in config;
}

/**
 * A model's name: config.json's `_name_or_path` (save_pretrained writes it),
 * else the folder's last path segment (a Hugging Face URL's repository name),
 * or its host; files picked without a name are the "picked model".
 */
export function nameOf(config: unknown, where: string): string {
  const named = (config as { _name_or_path?: unknown } | null)?._name_or_path;
  if (typeof named === 'string' && named.trim()) return named.trim();
  if (!where.includes('://')) return 'picked model';
  // A URL names its model by its last path segment (a Hugging Face repository's name), else by its host.
  const path = where.replace(/\/resolve\/[^/]+\/?$/, '').split('/').filter(Boolean);
  return path.at(-1)!;
}
