// Tokens/s of workload W1's training step (GUIDE §4): nanogpt-cpu (4 layers,
// 4 heads, 128 channels, context 64, vocab 65), batch 12, cross-entropy,
// backward, clipping to 1.0 and AdamW, on wasm and cpu (and webgpu when a
// real GPU adapter exists). PyTorch does 10,000 tokens/s here; a tfjs
// prototype did 1,929. Run: pnpm --filter @tx/train bench
import { measure, report } from '@tx/bench';
import { GPT, presets } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { AdamW, TokenDataset, clipGradNorm, crossEntropy } from '../dist/index.js';

const B = 12;
const T = 64;
const rng = new Rng(1);
const data = new TokenDataset(Array.from({ length: 200_000 }, () => rng.int(65)));
const rows = [];
const backends = ['wasm', 'cpu'];
const probe = await initBackend({ prefer: 'auto' });
if (probe.backend === 'webgpu') backends.unshift('webgpu');
for (const backend of backends) {
  await initBackend({ prefer: backend });
  const model = new GPT({ ...presets['nanogpt-cpu'], vocabSize: 65 }, { rng: new Rng(1337) });
  const named = model.namedParameters();
  const optimizer = new AdamW(named, { lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  const step = async () => {
    const b = data.batch('train', B, T, rng);
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(tf.tensor2d(b.x, [B, T], 'int32')).logits, tf.tensor2d(b.y, [B, T], 'int32')), named.map(([, v]) => v));
    const clipped = clipGradNorm(Object.fromEntries(named.map(([n, v]) => [n, grads[v.name]])), 1.0);
    optimizer.apply(clipped.grads, 1e-3);
    await value.data();
    tf.dispose([value, clipped.norm, ...Object.values(grads), ...Object.values(clipped.grads)]);
  };
  const m = await measure(step, backend === 'cpu' ? { warmup: 1, iters: 3 } : { warmup: 3, iters: 20 });
  rows.push({ backend, 'ms/iter (median)': m.median, p10: m.p10, p90: m.p90, 'tokens/s': (B * T * 1000) / m.median, 'vs PyTorch 10,000': (B * T * 1000) / m.median / 10_000 });
  optimizer.dispose();
  model.dispose();
}
report('W1 training step: nanogpt-cpu, batch 12 x 64', rows);
