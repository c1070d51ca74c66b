// A model folder, from the file picker or a URL: what `tx export` writes (the
// built-ins too), or a Hugging Face GPT-2 folder. config.json is read first:
// lib/files.ts says which files to read, and `check` may refuse the model
// (too big for the backend) before a byte of the weights is read. The weights
// and tokenizer then stream in, reported to a progress bar; a GPT-2 file of
// 500 MB is read into one buffer of its size (lib/read.ts).
import type { GPTConfig } from '@tx/blocks';
import { loadSafetensors, tf } from '@tx/core';
import { exportManifest, gptFromHuggingFace, parseManifest, type HuggingFaceFiles } from '@tx/train';
import { findHuggingFaceFiles, planFolder } from '../lib/files.js';
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
  /** Throw, saying why, if the backend cannot hold a GPT of this config: called before the weights are read. */
  check?: (config: GPTConfig) => void;
}

/** Load a `tx export` or Hugging Face GPT-2 folder. Errors are one line that names the file or field. */
export async function loadFolder(folder: Folder, { name, onProgress = () => {}, check = () => {} }: LoadOptions = {}): Promise<LoadedModel> {
  const progress = new Progress();
  const read = async (file: string): Promise<Uint8Array> => {
    const { body, size } = await folder.open(file);
    progress.start(file, size);
    onProgress(progress);
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
    if (manifest.model.kind === 'gpt') check(manifest.model.config);
    const [tokenizer, weights] = await Promise.all([json(plan.tokenizer), read(plan.weights)]);
    return fromFiles(name ?? nameOf(config, folder.where), { config: manifest, tokenizer, weights });
  }
  check(plan.config);
  const tokenizerFiles: Partial<HuggingFaceFiles> = {};
  const [weights] = await Promise.all([
    read(plan.weights),
    ...plan.tokenizer.map(async (file) => {
      if (file === 'tokenizer.json') tokenizerFiles.tokenizerJson = await json(file);
      else if (file === 'vocab.json') tokenizerFiles.vocabJson = await text(file);
      else if (file === 'merges.txt') tokenizerFiles.mergesTxt = await text(file);
      else tokenizerFiles.txTokenizer = await json(file);
    }),
  ]);
  const { tensors } = loadSafetensors(weights as Uint8Array, `${folder.where}/model.safetensors`);
  try {
    const { model, tokenizer, config: gpt } = gptFromHuggingFace({ config, tensors, ...tokenizerFiles }, folder.where);
    model.eval();
    return { kind: 'gpt', name: name ?? nameOf(config, folder.where), model, tokenizer, manifest: exportManifest('huggingface', { kind: 'gpt', config: gpt }) };
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
