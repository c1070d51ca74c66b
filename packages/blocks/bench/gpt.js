// nanoGPT's CPU configuration (4 layers, 4 heads, 128 channels, context 64,
// vocab 65) at batch 12: forward, and forward + backward of the mean-square of
// the logits (a stand-in loss: cross-entropy lives in @tx/train), on cpu and
// wasm. Run: pnpm --filter @tx/blocks bench
import { measure, report } from '@tx/bench';
import { Rng, initBackend, tf } from '@tx/core';
import { GPT, presets } from '../dist/index.js';

const B = 12;
const { blockSize: T, vocabSize: V } = presets['nanogpt-cpu'];
const backends = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rows = [];
for (const backend of backends.length > 0 ? backends : ['wasm', 'cpu']) {
  await initBackend({ prefer: backend });
  const model = new GPT(presets['nanogpt-cpu'], { rng: new Rng(1337) });
  const rng = new Rng(7);
  const ids = tf.tensor2d(Array.from({ length: B * T }, () => rng.int(V)), [B, T], 'int32');
  const iters = backend === 'cpu' ? 3 : 10;
  const forward = await measure(() => tf.tidy(() => void model.forward(ids).logits.dataSync()), { warmup: 2, iters });
  const step = await measure(
    () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward(ids).logits)));
        value.dataSync();
        for (const g of Object.values(grads)) g.dataSync();
      }),
    { warmup: 2, iters },
  );
  rows.push({ backend, 'forward ms': forward.median, 'forward+backward ms': step.median, 'train tokens/s': (B * T * 1000) / step.median });
  ids.dispose();
  model.dispose();
}
report(`GPT nanogpt-cpu (${presets['nanogpt-cpu'].nLayer}x${presets['nanogpt-cpu'].nEmbd}), batch ${B} x ${T} (median ms)`, rows);
