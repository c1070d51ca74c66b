// Where a W1 training step's time goes, kernel by kernel: every wasm kernel
// is wrapped with a timer for 10 steps, once with @tx's kernels and once with
// tfjs's own (TX_KERNELS=off's path), in one process.
// Run: node packages/train/bench/breakdown.js [--top 25]
import { GPT, presets } from '@tx/blocks';
import { Rng, initBackend, tf, useKernels } from '@tx/core';
import { AdamW, TokenDataset, crossEntropy, trainStep } from '../dist/index.js';

const B = 12;
const T = 64;
const top = Number(process.argv[process.argv.indexOf('--top') + 1] || 25);
await initBackend({ prefer: 'wasm' });

/** ms per step of each kernel (BatchMatMul by shape), over `steps` steps. */
async function profile(kernelsOn, steps = 10) {
  await useKernels(kernelsOn);
  const rng = new Rng(1);
  const data = new TokenDataset(Array.from({ length: 200_000 }, () => rng.int(65)));
  const model = new GPT({ ...presets['nanogpt-cpu'], vocabSize: 65 }, { rng: new Rng(1337) });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  const update = trainStep({ model, optimizer, gradClip: 1.0, loss: (b) => tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(b.x, [B, T], 'int32')).logits, tf.tensor2d(b.y, [B, T], 'int32'))) });
  const step = () => update([data.batch('train', B, T, rng)], 1e-3);
  for (let i = 0; i < 3; i++) await step();
  const stats = new Map();
  const configs = tf.getKernelsForBackend('wasm');
  for (const k of configs) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = k.kernelFunc(args);
        const key = k.kernelName === 'BatchMatMul' ? `BatchMatMul ${args.inputs.a.shape.join('x')} · ${args.inputs.b.shape.join('x')}${args.attrs.transposeA ? ' Aᵀ' : ''}${args.attrs.transposeB ? ' Bᵀ' : ''}` : k.kernelName;
        const s = stats.get(key) ?? { calls: 0, ms: 0 };
        s.calls += 1;
        s.ms += performance.now() - t0;
        stats.set(key, s);
        return out;
      },
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const stepMs = (performance.now() - t0) / steps;
  for (const k of configs) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  optimizer.dispose();
  model.dispose();
  const rows = [...stats].map(([kernel, s]) => ({ kernel, 'calls/step': s.calls / steps, 'ms/step': +(s.ms / steps).toFixed(2) })).sort((a, b) => b['ms/step'] - a['ms/step']);
  return { stepMs, kernelMs: rows.reduce((t, r) => t + r['ms/step'], 0), rows };
}

for (const on of [false, true]) {
  const p = await profile(on);
  console.log(`\n${on ? "@tx's kernels" : "tfjs's kernels (TX_KERNELS=off)"}: step ${p.stepMs.toFixed(1)} ms, ${p.kernelMs.toFixed(1)} ms in kernels, ${Math.round((B * T * 1000) / p.stepMs)} tokens/s`);
  console.table(p.rows.slice(0, top));
}
await useKernels(true);
