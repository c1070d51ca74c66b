// How much training's val loss moves with its draw: nanoGPT's estimate_loss
// (evalIters batches of batchSize x blockSize at random offsets, after as many
// train-split batches, from one Rng) repeated with 100 seeds on a checkpoint,
// beside the one seed training used at its last step. The README's "Two val
// losses" quotes it:  node apps/trainer/scripts/val-spread.mjs runs/names
// (after pnpm build and pnpm tx train).
import { Rng, initBackend, tf } from '@tx/core';
import { TokenDataset, languageModelLoss } from '@tx/train';
import { memoryBudget } from '../dist/budget.js';
import { corpusText, encodeCorpus } from '../dist/lm.js';
import { openCheckpoint } from '../dist/model-io.js';

const dir = process.argv[2] ?? 'runs/names';
await initBackend({ prefer: 'wasm' });
const { config, model, tokenizer } = await openCheckpoint(dir, memoryBudget('wasm'));
model.eval();
const s = config.settings;
const data = new TokenDataset(encodeCorpus(tokenizer, await corpusText(s), dir));

async function estimate(seed) {
  const rng = new Rng(seed);
  for (let i = 0; i < s.evalIters; i++) data.batch('train', s.batchSize, s.blockSize, rng); // drawn first, as estimateLoss does
  let total = 0;
  for (let i = 0; i < s.evalIters; i++) {
    const loss = tf.tidy(() => languageModelLoss(model, data.batch('val', s.batchSize, s.blockSize, rng)));
    total += (await loss.data())[0];
    loss.dispose();
  }
  return total / s.evalIters;
}

const trainingSeed = s.seed + config.training.step;
const others = [];
for (let k = 1; k < 100; k++) others.push(await estimate(100_000 + k));
const all = [await estimate(trainingSeed), ...others].sort((a, b) => a - b);
const mean = all.reduce((a, b) => a + b) / all.length;
const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
const f = (x) => x.toFixed(4);
console.log(`seed ${trainingSeed} (training's): ${f(await estimate(trainingSeed))}; saved in the checkpoint: ${f(config.training.valLoss)}`);
console.log(`100 seeds: mean ${f(mean)}, standard deviation ${f(sd)}, 90% within ${f(all[5])}-${f(all[94])}`);
