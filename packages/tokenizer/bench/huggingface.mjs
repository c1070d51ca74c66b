// Encode/decode MB/s on Tiny Shakespeare for Hugging Face tokenizer.json files
// read by HuggingFaceTokenizer: GPT-2's (rebuilt from js-tiktoken's ranks,
// gpt2-tokenizer-json.mjs) beside BpeTokenizer.fromTiktoken on the same ranks,
// and the test fixtures' small tokenizers written by Hugging Face's
// `tokenizers` (test/fixtures/hf-*.json: Llama 2 in both spellings, Llama 3,
// Qwen2, SmolLM; 700-856 tokens, so more merges per byte than a real vocabulary).
// Run `pnpm build && node bench/huggingface.mjs` in this package (it uses
// dist/). Medians of several runs; "warm" repeats encode on one instance,
// "cold" is a fresh instance's first encode (empty piece caches).
//
// BASELINE=<dir> also times another build of this package (its dist/ folder,
// say of the commit before a change, built elsewhere) on the same rows in the
// same process, each row right after ours, so that both meet the same load.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measure, report } from '@tx/bench';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import * as current from '../dist/index.js';
import { gpt2TokenizerJson } from './gpt2-tokenizer-json.mjs';

const builds = [['dist', current]];
if (process.env.BASELINE) builds.push(['baseline', await import(pathToFileURL(`${process.env.BASELINE}/index.js`).href)]);

const path = fileURLToPath(new URL('../../../../shared/data/tinyshakespeare.txt', import.meta.url));
if (!existsSync(path)) throw new Error(`Tiny Shakespeare not found at ${path} (expected <repo>/../shared/data/)`);
const text = readFileSync(path, 'utf8');
const mb = Buffer.byteLength(text) / 1e6;
const iters = Number(process.env.BENCH_ITERS ?? 7);
const parsed = new Map(); // read once, so that "load ms" is the tokenizer's own work
const fixture = (name) => {
  if (!parsed.has(name)) parsed.set(name, JSON.parse(readFileSync(new URL(`../test/fixtures/${name}.json`, import.meta.url), 'utf8')).tokenizer);
  return parsed.get(name);
};

const gpt2Json = gpt2TokenizerJson();
const sources = ({ BpeTokenizer, HuggingFaceTokenizer }) => [
  ['gpt2 (BpeTokenizer.fromTiktoken)', () => BpeTokenizer.fromTiktoken(gpt2Ranks)],
  ['gpt2 tokenizer.json', () => HuggingFaceTokenizer.fromJSON(gpt2Json)],
  ['llama3 fixture', () => HuggingFaceTokenizer.fromJSON(fixture('hf-llama3'))],
  ['qwen2 fixture', () => HuggingFaceTokenizer.fromJSON(fixture('hf-qwen2'))],
  ['smollm fixture', () => HuggingFaceTokenizer.fromJSON(fixture('hf-smollm'))],
  ['llama2 fixture (Metaspace)', () => HuggingFaceTokenizer.fromJSON(fixture('hf-llama2-metaspace'))],
  ['llama2 fixture (normalizer)', () => HuggingFaceTokenizer.fromJSON(fixture('hf-llama2-normalizer'))],
];

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const timeOnce = (fn) => {
  const s = performance.now();
  fn();
  return performance.now() - s;
};

const rows = [];
const idsOf = new Map(); // row -> ids from the first build, which every build must reproduce
const rowsPerBuild = builds.map(([, lib]) => sources(lib));
for (let r = 0; r < rowsPerBuild[0].length; r++) {
  for (let b = 0; b < builds.length; b++) {
    const [name, load] = rowsPerBuild[b][r];
    const t0 = performance.now();
    const tok = load();
    const loadMs = performance.now() - t0;
    const ids = tok.encode(text, { addSpecialTokens: false });
    // Both GPT-2 rows, and every build of a row, must do the same work: the same ids.
    const key = name.startsWith('gpt2') ? 'gpt2' : name;
    if (!idsOf.has(key)) idsOf.set(key, JSON.stringify(ids));
    else if (idsOf.get(key) !== JSON.stringify(ids)) throw new Error(`${name} (${builds[b][0]}): ids differ on Tiny Shakespeare`);
    if (tok.decode(ids) !== text) throw new Error(`${name}: decode(encode(text)) is not the text`);
    const cold = median(Array.from({ length: 3 }, () => {
      const fresh = load();
      return timeOnce(() => fresh.encode(text));
    }));
    const warm = await measure(() => tok.encode(text), { iters });
    const dec = await measure(() => tok.decode(ids), { warmup: 1, iters: Math.min(iters, 5) });
    rows.push({
      tokenizer: name,
      ...(builds.length > 1 ? { build: builds[b][0] } : {}),
      'tokens/byte': ids.length / Buffer.byteLength(text),
      'encode MB/s (warm)': mb / (warm.median / 1000),
      'encode MB/s (cold)': mb / (cold / 1000),
      'decode MB/s': mb / (dec.median / 1000),
      'load ms': loadMs,
    });
  }
}
report(`Hugging Face tokenizer.json encode/decode on Tiny Shakespeare (${mb.toFixed(2)} MB, ${iters} runs, medians)`, rows);
