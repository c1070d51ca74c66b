// Encode/decode MB/s on Tiny Shakespeare for @tx/tokenizer, js-tiktoken and
// gpt-tokenizer (GPT-2 and cl100k ranks), and BPE training time on 1 MB.
// Run `pnpm build && pnpm bench` in this package (it uses dist/). Medians of
// several runs; "cold" is a first encode with empty caches (a fresh instance
// of ours, gpt-tokenizer's merge cache cleared; js-tiktoken has no cache),
// "warm" repeats on the same instance.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { measure, report } from '@tx/bench';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import cl100kRanks from 'js-tiktoken/ranks/cl100k_base';
import * as gtGpt2 from 'gpt-tokenizer/encoding/r50k_base';
import * as gtCl100k from 'gpt-tokenizer/encoding/cl100k_base';
import { BpeTokenizer } from '../dist/index.js';

const path = fileURLToPath(new URL('../../../../shared/data/tinyshakespeare.txt', import.meta.url));
if (!existsSync(path)) throw new Error(`Tiny Shakespeare not found at ${path} (expected <repo>/../shared/data/)`);
const text = readFileSync(path, 'utf8');
const mb = Buffer.byteLength(text) / 1e6;
const rate = (m) => mb / (m.median / 1000);
const iters = Number(process.env.BENCH_ITERS ?? 7);

const rows = [];
for (const [name, ranks, gt] of [
  ['gpt2', gpt2Ranks, gtGpt2],
  ['cl100k', cl100kRanks, gtCl100k],
]) {
  const t0 = performance.now();
  const ours = BpeTokenizer.fromTiktoken(ranks);
  const loadMs = performance.now() - t0;
  const jt = new Tiktoken(ranks);
  const ids = ours.encode(text);
  const same = JSON.stringify(ids) === JSON.stringify(jt.encode(text)) && JSON.stringify(ids) === JSON.stringify(gt.encode(text));
  if (!same) throw new Error(`${name}: the three tokenizers disagree on Tiny Shakespeare; the benchmark would compare different work`);

  // Cold: a first encode with empty caches (a fresh instance for us, a cleared merge cache for gpt-tokenizer).
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const timeOnce = (fn) => {
    const s = performance.now();
    fn();
    return performance.now() - s;
  };
  const oursCold = median(Array.from({ length: 3 }, () => {
    const fresh = BpeTokenizer.fromTiktoken(ranks);
    return timeOnce(() => fresh.encode(text));
  }));
  const gtCold = median(Array.from({ length: 3 }, () => {
    gt.clearMergeCache();
    return timeOnce(() => gt.encode(text));
  }));

  const enc = {
    ours: await measure(() => ours.encode(text), { iters }),
    'js-tiktoken': await measure(() => jt.encode(text), { warmup: 1, iters: Math.min(iters, 5) }),
    'gpt-tokenizer': await measure(() => gt.encode(text), { iters }),
  };
  const dec = {
    ours: await measure(() => ours.decode(ids), { iters }),
    'js-tiktoken': await measure(() => jt.decode(ids), { iters }),
    'gpt-tokenizer': await measure(() => gt.decode(ids), { iters }),
  };
  for (const lib of Object.keys(enc)) {
    rows.push({
      ranks: name,
      tokenizer: lib,
      'encode MB/s (warm)': rate(enc[lib]),
      'encode MB/s (cold)': lib === 'ours' ? mb / (oursCold / 1000) : lib === 'gpt-tokenizer' ? mb / (gtCold / 1000) : rate(enc[lib]),
      'decode MB/s': rate(dec[lib]),
      'load ms': lib === 'ours' ? loadMs : '',
    });
  }
}
report(`BPE encode/decode on Tiny Shakespeare (${mb.toFixed(2)} MB, ${iters} runs, medians)`, rows);

const oneMb = text.slice(0, 1_000_000);
const trainRows = [];
for (const vocabSize of [512, 4096]) {
  const m = await measure(() => BpeTokenizer.train(oneMb, { vocabSize }), { warmup: 1, iters: vocabSize > 1000 ? 3 : 5 });
  trainRows.push({ 'vocab size': vocabSize, 'text': '1 MB of Tiny Shakespeare', 'train s (median)': m.median / 1000, runs: m.runs });
}
report('BPE training (gpt2 split pattern)', trainRows);
