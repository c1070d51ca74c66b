// Forward + backward of a [M, K] x [K, N] product: tfjs's matMul (whose
// gradient uses transpose flags) against matMul2d (explicit transposes, the
// wasm fast path). Run: pnpm --filter @tx/core bench
import { measure, report } from '@tx/bench';
import { Rng, initBackend, matMul2d, randomNormal, tf } from '../dist/index.js';

const rows = [];
for (const backend of ['wasm', 'cpu']) {
  await initBackend({ prefer: backend });
  for (const [m, k, n] of backend === 'cpu' ? [[768, 128, 384]] : [[768, 128, 384], [768, 128, 512], [768, 512, 128]]) {
    const rng = new Rng(1);
    const a = randomNormal([m, k], rng);
    const b = randomNormal([k, n], rng);
    const flops = 3 * 2 * m * k * n; // forward + two gradient products
    const timeOf = (mm) => measure(() => tf.tidy(() => {
      const grads = tf.grads((x, y) => tf.sum(mm(x, y)))([a, b]);
      grads[0].dataSync();
      grads[1].dataSync();
    }), { warmup: 2, iters: backend === 'cpu' ? 3 : 15 });
    const plain = await timeOf((x, y) => tf.matMul(x, y));
    const fast = await timeOf(matMul2d);
    rows.push({ backend, shape: `${m}x${k}x${n}`, 'tf.matMul ms': plain.median, 'matMul2d ms': fast.median, speedup: plain.median / fast.median, 'matMul2d GFLOP/s': flops / fast.median / 1e6 });
    tf.dispose([a, b]);
  }
}
report('matMul forward+backward (median ms)', rows);
