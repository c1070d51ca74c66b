// Tokens/s of workload W1's training step (docs/performance.md §5): nanogpt-cpu (4 layers,
// 4 heads, 128 channels, context 64, vocab 65), batch 12, cross-entropy,
// backward, clipping to 1.0 and AdamW, on wasm with @tx's kernels and with
// tfjs's own (TX_KERNELS=off's path), and on cpu (and webgpu when a real GPU
// adapter exists). PyTorch side by side: node tooling/bench/w1.mjs; where the
// time goes: node bench/breakdown.js. Run: pnpm --filter @tx/train bench
import { measure, report } from '@tx/bench';
import { GPT, presets } from '@tx/blocks';
import { Rng, initBackend, tf, useKernels } from '@tx/core';
import { AdamW, TokenDataset, crossEntropy, trainStep } from '../dist/index.js';

const B = 12;
const T = 64;
const rng = new Rng(1);
const data = new TokenDataset(Array.from({ length: 200_000 }, () => rng.int(65)));
const rows = [];
const backends = ['wasm', 'wasm, TX_KERNELS=off', 'cpu'];
const probe = await initBackend({ prefer: 'auto' });
if (probe.backend === 'webgpu') backends.unshift('webgpu');
for (const backend of backends) {
  await initBackend({ prefer: backend.split(',')[0] });
  if (backend.includes('off')) await useKernels(false);
  const model = new GPT({ ...presets['nanogpt-cpu'], vocabSize: 65 }, { rng: new Rng(1337) });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  // The same step trainLoop takes: forward, cross-entropy, backward, clip, AdamW.
  const update = trainStep({ model, optimizer, gradClip: 1.0, loss: (b) => tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(b.x, [B, T], 'int32')).logits, tf.tensor2d(b.y, [B, T], 'int32'))) });
  const step = () => update([data.batch('train', B, T, rng)], 1e-3);
  const m = await measure(step, backend === 'cpu' ? { warmup: 1, iters: 3 } : { warmup: 3, iters: 20 });
  rows.push({ backend, 'ms/iter (median)': m.median, p10: m.p10, p90: m.p90, 'tokens/s': (B * T * 1000) / m.median });
  optimizer.dispose();
  model.dispose();
}
report('W1 training step: nanogpt-cpu, batch 12 x 64', rows);
