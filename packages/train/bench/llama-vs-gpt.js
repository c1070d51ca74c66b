// issue 23's ratio: a llama-mini training step against a same-size GPT's
// (nanogpt-cpu), batch 12 x 64, on wasm with @tx's kernels (as `tx bench`), side by side in
// one process: interleaved rounds, medians of each round's ms/step. "llama,
// tfjs ops" runs the SiLU gate and RoPE as tfjs's ops (the path before core's
// siluGate and rope kernels), patched in for its rounds only.
// Run: node packages/train/bench/llama-vs-gpt.js [--rounds 5] [--steps 10] [--threads 1]
import { GPT, GatedMLP, Llama, presets, silu } from '@tx/blocks';
import { Rng, initBackend, tf } from '@tx/core';
import { RotaryEmbedding, rotaryAngle } from '../../positional/dist/index.js';
import { AdamW, TokenDataset, crossEntropy, trainStep } from '../dist/index.js';

const B = 12;
const T = 64;
const flag = (name, fallback) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const [rounds, steps, threads] = [flag('--rounds', 5), flag('--steps', 10), flag('--threads', undefined)];
await initBackend({ prefer: 'wasm', threads });

// The tfjs-ops path, switched on by `old` (the code before the kernels, kept here to compare).
let old = false;
const [mlpForward, rotaryApply] = [GatedMLP.prototype.forward, RotaryEmbedding.prototype.apply];
GatedMLP.prototype.forward = function (x) {
  if (!old) return mlpForward.call(this, x);
  return tf.tidy(() => this.down_proj.forward(tf.mul(silu(this.gate_proj.forward(x)), this.up_proj.forward(x))));
};
RotaryEmbedding.prototype.apply = function (x, offset = 0) {
  if (!old) return rotaryApply.call(this, x, offset);
  const [n, d] = [x.shape[x.rank - 2], this.headDim];
  const angles = (f, sign) => tf.tensor2d(Array.from({ length: n * d }, (_, i) => {
    const [t, c] = [Math.floor(i / d), i % d];
    return (c < d / 2 ? sign : 1) * f(rotaryAngle(offset + t, c % (d / 2), d, this.base));
  }), [n, d]);
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1);
    return tf.add(tf.mul(x, angles(Math.cos, 1)), tf.mul(tf.concat([x2, x1], -1), angles(Math.sin, -1)));
  });
};

const rng = new Rng(1);
const data = new TokenDataset(Array.from({ length: 200_000 }, () => rng.int(65)));
function setup(name) {
  const model = name === 'gpt' ? new GPT({ ...presets['nanogpt-cpu'], vocabSize: 65 }, { rng: new Rng(1337) }) : new Llama({ ...presets['llama-mini'], vocabSize: 65 }, { rng: new Rng(1337) });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  const update = trainStep({ model, optimizer, gradClip: 1.0, loss: (b) => tf.tidy(() => crossEntropy(model.forward(tf.tensor2d(b.x, [B, T], 'int32')).logits, tf.tensor2d(b.y, [B, T], 'int32'))) });
  return { name, old: name === 'llama, tfjs ops', step: () => update([data.batch('train', B, T, rng)], 1e-3), ms: [] };
}
const runs = [setup('gpt'), setup('llama'), setup('llama, tfjs ops')];
for (const r of runs) for (let i = 0; i < 3; i++) { old = r.old; await r.step(); }
for (let round = 0; round < rounds; round++) {
  for (const r of round % 2 ? [...runs].reverse() : runs) {
    old = r.old;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await r.step();
    r.ms.push((performance.now() - t0) / steps);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gpt = median(runs[0].ms);
console.table(runs.map((r) => ({ model: r.name, 'ms/step (median)': +median(r.ms).toFixed(1), 'tokens/s': Math.round((B * T * 1000) / median(r.ms)), 'x GPT': +(median(r.ms) / gpt).toFixed(2), rounds: r.ms.map((m) => +m.toFixed(0)).join(' ') })));
