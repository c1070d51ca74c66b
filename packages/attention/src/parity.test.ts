// Backend parity: SDPA (masked) and SelfAttention (with a KV-cache
// decode), forward and gradients, on cpu, wasm and webgpu agree to 1e-5.
//
// In Node, webgpu runs on Dawn with SwiftShader (slow: the shapes are small).
// If it cannot start, the test fails with the reason; TX_SKIP_WEBGPU=1 skips
// it knowingly outside CI, as in @tx/core.
import { describe, expect, it } from 'vitest';
import { Rng, randomNormal, tf, type BackendName } from '@tx/core';
import { maxAbsDifference, onBackend, skipWebGPU } from '@tx/core/testing';
import { RotaryEmbedding } from '@tx/positional';
import { KVCache } from './cache.js';
import { SelfAttention } from './attention.js';
import { scaledDotProductAttention } from './sdpa.js';

async function compute(): Promise<Record<string, number[]>> {
  const rng = new Rng(99);
  const [q, k, v] = [randomNormal([2, 2, 3, 4], rng), randomNormal([2, 1, 5, 4], rng), randomNormal([2, 1, 5, 4], rng)];
  const pad = tf.tensor2d([[false, false, false, false, true], [false, false, true, true, true]], [2, 5], 'bool');
  const sdpaLoss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(scaledDotProductAttention(a, b, c, { causal: true, keyPaddingMask: pad }).output));
  const { value: sdpa, grads: sdpaGrads } = tf.valueAndGrads(sdpaLoss)([q, k, v]);

  const rope = new RotaryEmbedding(4);
  const mha = new SelfAttention({ dModel: 8, nHead: 2, causal: true, rotary: rope, rng });
  const x = randomNormal([2, 4, 8], rng);
  const { output, attention } = mha.forward(x, { returnAttention: true });
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(mha.forward(x).output)) as tf.Scalar);
  const cache = new KVCache();
  const steps = [0, 1, 2, 3].map((t) => mha.forward(tf.slice(x, [0, t, 0], [-1, 1, -1]), { cache }).output);
  const out: Record<string, number[]> = {
    sdpa: Array.from(await sdpa.data()),
    ...Object.fromEntries(await Promise.all(sdpaGrads.map(async (g, i) => [`d${'qkv'[i]}`, Array.from(await g.data())]))),
    mha: Array.from(await output.data()),
    attention: Array.from(await attention.data()),
    loss: Array.from(await value.data()),
    decoded: Array.from(await tf.concat(steps, 1).data()),
  };
  for (const [name, p] of mha.namedParameters()) out[`d ${name}`] = Array.from(await grads[p.name].data());
  cache.dispose();
  mha.dispose();
  rope.dispose();
  return out;
}

const on = (backend: BackendName) => onBackend(backend, compute);


describe('backend parity (attention)', () => {
  it('cpu and wasm agree to 1e-5', async () => {
    expectClose(await on('wasm'), await on('cpu'));
  });

  it.skipIf(skipWebGPU)('webgpu (Dawn) agrees with cpu to 1e-5', async () => {
    const cpu = await on('cpu');
    expectClose(await on('webgpu'), cpu);
  });
});

function expectClose(got: Record<string, number[]>, want: Record<string, number[]>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const key of Object.keys(want)) expect(maxAbsDifference(got[key], want[key]), `${key}: max abs difference`).toBeLessThan(1e-5);
}
