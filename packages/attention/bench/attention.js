// One attention layer (SelfAttention: fused QKV projection, causal
// attention, output projection) at nanoGPT's CPU configuration, B=12, T=64,
// C=128, h=4, forward and forward+backward, on wasm and cpu.
//
// Two formulations in the same process:
//   plain tfjs  separate W_Q, W_K, W_V matMuls with tfjs's own gradients
//               (transpose flags), scores via matMul(q, k, false, true)
//   @tx         SelfAttention: one fused c_attn 2-D matMul and c_proj, both
//               with explicit-transpose gradients (the wasm fast path)
// Run: pnpm --filter @tx/attention bench   (after pnpm build)
import { measure, report } from '@tx/bench';
import { Rng, initBackend, randomNormal, tf } from '@tx/core';
import { SelfAttention } from '../dist/index.js';

const [B, T, C, h] = [12, 64, 128, 4];
const d = C / h;
// Multiply-adds x 2: QKV projection, QKᵀ and weights·V, output projection.
const forwardFlops = 2 * B * T * C * 3 * C + 2 * 2 * B * h * T * T * d + 2 * B * T * C * C;
const backwardFactor = 3; // forward + two gradient products per matMul

function plainLayer(rng) {
  const w = ['q', 'k', 'v', 'o'].map(() => tf.variable(randomNormal([C, C], rng, { std: 0.02 })));
  const heads = (t) => tf.transpose(tf.reshape(t, [B, T, h, d]), [0, 2, 1, 3]);
  const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
  const blocked = tf.mul(tf.sub(1, causal), -1e9);
  return {
    vars: w,
    forward(x) {
      const x2 = tf.reshape(x, [B * T, C]);
      const [q, k, v] = w.slice(0, 3).map((wi) => heads(tf.matMul(x2, wi)));
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)), blocked));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, C]);
      return tf.reshape(tf.matMul(y, w[3]), [B, T, C]);
    },
  };
}

function txLayer(rng) {
  const mha = new SelfAttention({ dModel: C, nHead: h, bias: false, causal: true, rng });
  return { vars: mha.parameters(), forward: (x) => mha.forward(x).output };
}

const rows = [];
for (const backend of ['wasm', 'cpu']) {
  await initBackend({ prefer: backend });
  const iters = backend === 'cpu' ? 3 : 20;
  const x = randomNormal([B, T, C], new Rng(1));
  const results = {};
  for (const [name, make] of [['plain tfjs', plainLayer], ['@tx', txLayer]]) {
    const layer = make(new Rng(2));
    const fwd = await measure(() => tf.tidy(() => layer.forward(x).dataSync()), { warmup: 2, iters });
    const fwdBwd = await measure(() => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.forward(x)), layer.vars);
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    }), { warmup: 2, iters });
    results[name] = { fwd: fwd.median, fwdBwd: fwdBwd.median };
    rows.push({
      backend, formulation: name,
      'fwd ms': fwd.median, 'fwd GFLOP/s': forwardFlops / fwd.median / 1e6,
      'fwd+bwd ms': fwdBwd.median, 'fwd+bwd GFLOP/s': (backwardFactor * forwardFlops) / fwdBwd.median / 1e6,
    });
  }
  rows.push({
    backend, formulation: 'speed-up (plain / @tx)',
    'fwd ms': results['plain tfjs'].fwd / results['@tx'].fwd,
    'fwd+bwd ms': results['plain tfjs'].fwdBwd / results['@tx'].fwdBwd,
  });
  x.dispose();
}
report(`One attention layer, B=${B} T=${T} C=${C} h=${h}, causal, no bias (median ms; ${(forwardFlops / 1e6).toFixed(1)} MFLOP forward)`, rows);
