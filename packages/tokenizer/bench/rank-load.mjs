// How long a user waits for a GPT-2 or cl100k tokenizer in a fresh process:
// importing js-tiktoken's ranks, then BpeTokenizer.fromTiktoken (cold JIT,
// as a CLI or a page meets it). Each run is a new Node process.
//   node bench/rank-load.mjs [runs=5]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const child = `
const t0 = performance.now();
const { default: ranks } = await import(process.argv[1] === 'cl100k' ? 'js-tiktoken/ranks/cl100k_base' : 'js-tiktoken/ranks/gpt2');
const t1 = performance.now();
const { BpeTokenizer } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
const t2 = performance.now();
BpeTokenizer.fromTiktoken(ranks);
console.log(JSON.stringify({ importMs: t1 - t0, buildMs: performance.now() - t2 }));`;
const cwd = fileURLToPath(new URL('..', import.meta.url));
const stats = (xs) => { const s = [...xs].sort((a, b) => a - b); return `median ${s[s.length >> 1].toFixed(0)} ms (min ${s[0].toFixed(0)}, max ${s.at(-1).toFixed(0)})`; };
for (const ranks of ['gpt2', 'cl100k']) {
  const r = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child, ranks], { cwd, encoding: 'utf8' })));
  console.log(`${ranks}: import the ranks ${stats(r.map((x) => x.importMs))}; fromTiktoken ${stats(r.map((x) => x.buildMs))}; ${runs} fresh processes`);
}
