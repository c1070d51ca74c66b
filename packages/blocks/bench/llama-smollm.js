// Run: pnpm --filter @tx/blocks build, then node bench/llama-smollm.js (a few minutes; part of pnpm bench).
// SmolLM2-135M-sized Llama (random weights) on wasm, one thread: decode tokens/s through
// tfjs's forward with KV caches (the path sessions took before, the fused decoder refusing
// Llama) and through the fused wasm decoder; forward tokens/s at 1,024 tokens (tfjs's
// batched forward, and the fused decoder's prompt feed); peak RSS.
import { Rng, initBackend, tf } from '@tx/core';
import { GPTSession, Llama } from '../dist/index.js';

const rss = () => `${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`;
await initBackend({ prefer: 'wasm' });
console.log('backend', tf.getBackend());
const config = {
  vocabSize: 49152, blockSize: 2048, nLayer: 30, nHead: 9, nKvHead: 3, nEmbd: 576, headDim: 64, intermediateSize: 1536,
  rmsNormEps: 1e-5, ropeTheta: 100000, qkvBias: false, oBias: false, slidingWindow: null, tieWordEmbeddings: true,
};
let t0 = performance.now();
const model = new Llama(config, { rng: new Rng(1) }).eval();
console.log(`built ${model.numParameters()} parameters in ${((performance.now() - t0) / 1000).toFixed(1)} s, peak RSS ${rss()}`);
const rng = new Rng(2);
const prompt = Array.from({ length: 8 }, () => rng.int(config.vocabSize));

async function decode(session, steps) {
  let { logits } = await session.feed(prompt);
  const first = logits;
  await session.feed([1]); // warm-up step
  t0 = performance.now();
  for (let i = 0; i < steps; i++) ({ logits } = await session.feed([(i * 7919) % config.vocabSize]));
  const s = (performance.now() - t0) / 1000;
  session.dispose();
  return { tps: steps / s, first };
}
// Before: the same session over tfjs's forward (a model that lends no layout, as Llama's was refused).
const plain = { config: model.config, forward: (ids, o) => model.forward(ids, o), createCache: () => model.createCache(), decoderWeights: () => null };
const before = await decode(new GPTSession(plain), 6);
console.log(`decode, tfjs forward + KV cache: ${before.tps.toFixed(2)} tok/s (${(1000 / before.tps).toFixed(0)} ms/token), peak RSS ${rss()}`);
const after = await decode(model.startSession(), 60);
console.log(`decode, fused wasm decoder:      ${after.tps.toFixed(2)} tok/s (${(1000 / after.tps).toFixed(1)} ms/token), peak RSS ${rss()}`);
let diff = 0;
for (let i = 0; i < before.first.length; i++) diff = Math.max(diff, Math.abs(before.first[i] - after.first[i]));
console.log(`speed-up ${(after.tps / before.tps).toFixed(1)}x; prompt logits max |fused - tfjs| = ${diff.toExponential(2)}`);

const long = Array.from({ length: 1024 }, () => rng.int(config.vocabSize));
tf.tidy(() => void model.forward(tf.tensor2d([long.slice(0, 16)], [1, 16], 'int32')).logits.dataSync()); // warm-up
t0 = performance.now();
tf.tidy(() => void model.forward(tf.tensor2d([long], [1, 1024], 'int32')).logits.dataSync());
let s = (performance.now() - t0) / 1000;
console.log(`forward 1,024 tokens, tfjs batched: ${(1024 / s).toFixed(1)} tok/s (${s.toFixed(1)} s), peak RSS ${rss()}`);
const session = model.startSession();
t0 = performance.now();
await session.feed(long);
s = (performance.now() - t0) / 1000;
session.dispose();
console.log(`forward 1,024 tokens, fused prompt feed: ${(1024 / s).toFixed(1)} tok/s (${s.toFixed(1)} s), peak RSS ${rss()}`);
model.dispose();
