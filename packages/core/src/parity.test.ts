// Backend parity: one small computation (matMul, softmax, layer norm, and the
// gradients through them) on cpu, wasm and webgpu must agree to 1e-5.
//
// In Node, webgpu runs on Dawn (the `webgpu` package) with Vulkan's SwiftShader
// driver from Debian's chromium package. If it cannot start, this test fails
// with the reason; set TX_SKIP_WEBGPU=1 to skip it knowingly on a machine
// without that driver (CI never sets it).
import { describe, expect, it } from 'vitest';
import type { BackendName } from './backend.js';
import { Rng } from './rng.js';
import { maxAbsDifference, onBackend, skipWebGPU } from './testing.js';
import { tf } from './tf.js';

const rng = new Rng(2024);
const shapes = { x: [4, 8], w: [8, 6], gamma: [6], target: [4, 6] } as const;
const inputs = Object.fromEntries(
  Object.entries(shapes).map(([name, shape]) => [name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal())]),
) as Record<keyof typeof shapes, Float32Array>;

/** loss = sum(softmax(layerNorm(x W) * gamma) * target); returns the loss, activations and gradients. */
async function compute(): Promise<Record<string, number[]>> {
  const x = tf.tensor(inputs.x, [...shapes.x]);
  const w = tf.tensor(inputs.w, [...shapes.w]);
  const gamma = tf.tensor(inputs.gamma, [...shapes.gamma]);
  const target = tf.tensor(inputs.target, [...shapes.target]);
  const forward = (x: tf.Tensor, w: tf.Tensor, gamma: tf.Tensor) => {
    const h = tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
    const { mean, variance } = tf.moments(h, -1, true);
    const normed = tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma);
    return tf.softmax(normed);
  };
  const probs = forward(x, w, gamma);
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(forward(a, b, c), target)))([x, w, gamma]);
  const out = {
    probs: Array.from(await probs.data()),
    loss: Array.from(await value.data()),
    dx: Array.from(await grads[0].data()),
    dw: Array.from(await grads[1].data()),
    dgamma: Array.from(await grads[2].data()),
  };
  tf.dispose([x, w, gamma, target, probs, value, ...grads]);
  return out;
}

const on = (backend: BackendName) => onBackend(backend, compute);

describe('backend parity', () => {
  it('cpu and wasm agree to 1e-5', async () => {
    const cpu = await on('cpu');
    const wasm = await on('wasm');
    expectClose(wasm, cpu);
    // The reference itself is sane: softmax rows sum to 1.
    for (let r = 0; r < 4; r++) expect(cpu.probs.slice(r * 6, r * 6 + 6).reduce((a, b) => a + b)).toBeCloseTo(1, 6);
  });

  it.skipIf(skipWebGPU)('webgpu (Dawn) agrees with cpu to 1e-5', async () => {
    const cpu = await on('cpu');
    expectClose(await on('webgpu'), cpu);
  });
});

function expectClose(got: Record<string, number[]>, want: Record<string, number[]>): void {
  for (const key of Object.keys(want)) expect(maxAbsDifference(got[key], want[key]), `${key}: max abs difference`).toBeLessThan(1e-5);
}
