// GPT-2 small (124M parameters, vocab 50,257) reading 1,024 tokens at batch 1
// on wasm, in eval mode: forward tokens/s, with and without every layer's
// attention weights (what `tx inspect` and the site ask for), and memory at
// its peak (tfjs's tensors, and the wasm heap, which only grows).
// Run: node bench/gpt2.js (after pnpm build); part of pnpm bench.
import { measure, report } from '@tx/bench';
import { Rng, initBackend, tf } from '@tx/core';
import { GPT, presets } from '../dist/index.js';

await initBackend({ prefer: 'wasm' });
const T = Number(process.env.TX_BENCH_TOKENS ?? 1024);
const model = new GPT(presets.gpt2, { rng: new Rng(1) }).eval();
const rng = new Rng(7);
const ids = tf.tensor2d(Array.from({ length: T }, () => rng.int(presets.gpt2.vocabSize)), [1, T], 'int32');
let peak = 0;
const track = () => (peak = Math.max(peak, tf.memory().numBytes));
const rows = [];
for (const returnAttention of [false, true]) {
  const m = await measure(async () => {
    const out = model.forward(ids, { returnAttention });
    track();
    await out.logits.data();
    tf.dispose([out.logits, ...(out.attention ?? [])]);
  }, { warmup: 1, iters: 3 });
  rows.push({ 'attention returned': returnAttention, 'ms (median)': m.median, 'tokens/s': (T * 1000) / m.median });
}
const heap = tf.backend().wasm?.HEAPU8?.length ?? NaN;
report(`gpt2 (124M) forward of ${T} tokens, batch 1, wasm; tensors at peak ${(peak / 2 ** 20).toFixed(0)} MiB, wasm heap ${(heap / 2 ** 20).toFixed(0)} MiB, weights ${(model.numParameters() * 4 / 2 ** 20).toFixed(0)} MiB`, rows);
ids.dispose();
model.dispose();
