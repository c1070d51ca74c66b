// Trains the site's built-in models, reproducibly (fixed seeds, fixed data),
// and writes them as checkpoint folders the site loads statically:
//
//   public/models/<name>/{config.json, model.safetensors, tokenizer.json}
//
// Run from apps/demo:  pnpm train-builtins [--only shakespeare|dates] [--iters N]
// (builds this script with Vite's SSR mode, then runs it with node on the
// built workspace packages, on the wasm backend).
//
// shakespeare: a character GPT on Tiny Shakespeare (../../../shared/data, or
//              --shakespeare FILE), for the attention, arithmetic and generate views.
// dates:       a character GPT on "human date=ISO date" lines generated in code,
//              for the alignment view (a decoder-only stand-in for the
//              encoder-decoder until @tx/blocks has one).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, initBackend, serializeSafetensors, tf } from '@tx/core';
import { datesCorpus } from '../src/data/dates.js';
import { Trainer, type TrainSettings } from '../src/model/train.js';

const here = dirname(fileURLToPath(import.meta.url));
const demo = resolve(here, '..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

interface Builtin {
  name: string;
  description: string;
  corpus: () => Promise<string>;
  settings: TrainSettings;
}

const BUILTINS: Builtin[] = [
  {
    name: 'shakespeare',
    description: 'character GPT on Tiny Shakespeare',
    corpus: () => readFile(flag('shakespeare') ?? resolve(demo, '../../../shared/data/tinyshakespeare.txt'), 'utf8'),
    settings: { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64, batchSize: 16, lr: 3e-3, maxIters: 1500, seed: 1337, evalInterval: 250 },
  },
  {
    name: 'dates',
    description: 'character GPT on "human date=ISO date" lines',
    corpus: async () => datesCorpus(20000, new Rng(2026)),
    settings: { nLayer: 2, nHead: 4, nEmbd: 48, blockSize: 48, batchSize: 16, lr: 3e-3, maxIters: 1500, seed: 1337, evalInterval: 250 },
  },
];

async function main() {
  const backend = await initBackend({ prefer: 'wasm' });
  console.log(`backend: ${backend.backend}`);
  const only = flag('only');
  const iters = flag('iters');
  for (const b of BUILTINS.filter((x) => !only || x.name === only)) {
    const settings = { ...b.settings, ...(iters ? { maxIters: Number(iters) } : {}) };
    const corpus = await b.corpus();
    const trainer = new Trainer(corpus, settings);
    console.log(`${b.name}: ${b.description}; ${trainer.model.numParameters()} parameters, vocab ${trainer.tokenizer.vocabSize}, ${settings.maxIters} iterations`);
    const t0 = Date.now();
    let last = { trainLoss: NaN, valLoss: NaN };
    for await (const e of trainer.run()) {
      if (e.event === 'eval') {
        last = e;
        console.log(`  step ${e.step}: train ${e.trainLoss.toFixed(3)} val ${e.valLoss.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
    const out = join(demo, 'public/models', b.name);
    await mkdir(out, { recursive: true });
    const state = trainer.model.stateDict();
    await writeFile(join(out, 'model.safetensors'), await serializeSafetensors(state, { format: 'pt' }));
    tf.dispose(Object.values(state));
    const m = trainer.model.config;
    const config = {
      model: { type: 'gpt', n_layer: m.nLayer, n_head: m.nHead, n_embd: m.nEmbd, block_size: m.blockSize, vocab_size: m.vocabSize, bias: true, dropout: 0 },
      tokenizer: { kind: 'char' },
      training: { step: trainer.step, trainLoss: last.trainLoss, valLoss: last.valLoss, ...settings, script: 'apps/demo/scripts/train-builtins.ts' },
      description: b.description,
    };
    await writeFile(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(join(out, 'tokenizer.json'), `${JSON.stringify(trainer.tokenizer.toJSON())}\n`);
    console.log(`  wrote ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    trainer.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
