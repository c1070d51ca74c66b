// Tokens/s of generating 500 new tokens at batch 1 with nanogpt-cpu (vocab 65,
// context 64, so most tokens are past the context), on wasm and cpu: with the
// KV cache and each context policy ('restart': a fresh cache from 3/4 of the
// context; 'crop', the default: nanoGPT's, the last 64 ids recomputed per
// step), and without a cache. nanoGPT (no cache) does 304 tokens/s on this
// machine (docs/performance.md §5). Run: pnpm --filter @tx/generate bench
import { measure, report } from '@tx/bench';
import { GPT, presets } from '@tx/blocks';
import { Rng, initBackend } from '@tx/core';
import { generate } from '../dist/index.js';

const rows = [];
const newTokens = Number(process.env.TX_BENCH_TOKENS ?? 500);
for (const backend of ['wasm', 'cpu']) {
  await initBackend({ prefer: backend });
  const gpt = new GPT({ ...presets['nanogpt-cpu'], vocabSize: 65 }, { rng: new Rng(1337) }).eval();
  for (const [cache, contextOverflow] of [[true, 'restart'], [true, 'crop'], [false, 'crop']]) {
    if (backend === 'cpu' && contextOverflow === 'crop') continue; // minutes per run: the cached cpu figure makes the point
    const m = await measure(async () => {
      await generate(gpt, [0], { maxNewTokens: newTokens, cache, contextOverflow, seed: 1, topK: 40 });
    }, { warmup: 1, iters: backend === 'cpu' ? 1 : 3 });
    rows.push({ backend, cache: cache ? `KV cache, ${contextOverflow}` : 'none', 'new tokens': newTokens, 'median s': m.median / 1000, 'tokens/s': (newTokens * 1000) / m.median, 'vs nanoGPT 304': (newTokens * 1000) / m.median / 304 });
  }
  gpt.dispose();
}
report('generate, nanogpt-cpu, batch 1', rows);
