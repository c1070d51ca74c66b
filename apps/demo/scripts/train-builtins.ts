// Trains the site's built-in models, reproducibly (fixed seeds, fixed data),
// with @tx/blocks models and @tx/train's loop, and writes them in the format
// `tx export` writes, which the site loads statically:
//
//   public/models/<name>/{config.json, model.safetensors, tokenizer.json}
//
// Run from apps/demo:  pnpm train-builtins [--only shakespeare|dates|coref] [--iters N] [--shakespeare FILE]
// (builds this script with Vite's SSR mode, then runs it with node on the
// built workspace packages, on the wasm backend).
//
// shakespeare: a character GPT on Tiny Shakespeare (<repo>/../shared/data, or
//              --shakespeare FILE), for the attention, arithmetic and generate views.
// dates:       an encoder-decoder on @tx/train's makeExamples('dates'), as
//              `tx train --task dates`, for the alignment (cross-attention) view.
// coref:       an encoder over words on @tx/train's coref task, as `tx train
//              --task coref` (smaller: 32 channels), for the attention view's
//              opening picture: who is "it" in the explainer's sentence.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, serializeSafetensors, tf } from '@tx/core';
import { evaluateCoref, exactMatch, makeCorefExamples } from '@tx/train';
import { Rng } from '@tx/core';
import type { ModelSpec } from '@tx/blocks';
import { exportManifest } from '@tx/train';
import { translateAll } from '../src/model/seq2seq.js';
import { inspectEncoder } from '../src/model/coref.js';
import { COREF_SETTINGS, CorefTrainer, Seq2SeqTrainer, Trainer, type AnyTrainer, type TrainSettings } from '../src/model/train.js';

const here = dirname(fileURLToPath(import.meta.url));
const demo = resolve(here, '..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

interface Builtin {
  name: string;
  task: string;
  description: string;
  settings: TrainSettings;
  trainer: (settings: TrainSettings) => Promise<AnyTrainer>;
}

const BUILTINS: Builtin[] = [
  {
    name: 'shakespeare',
    task: 'text',
    description: 'character GPT (@tx/blocks) on Tiny Shakespeare',
    settings: { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64, batchSize: 16, lr: 3e-3, maxIters: 1500, seed: 1337, evalInterval: 250, evalIters: 10 },
    trainer: async (s) => new Trainer(await readFile(flag('shakespeare') ?? resolve(demo, '../../../shared/data/tinyshakespeare.txt'), 'utf8'), s),
  },
  {
    name: 'dates',
    task: 'dates',
    description: "encoder-decoder (@tx/blocks) on @tx/train's dates task: a human date to ISO 8601",
    settings: { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 48, batchSize: 32, lr: 2e-3, maxIters: 2000, seed: 1337, evalInterval: 250, evalIters: 10, weightDecay: 0.01 },
    trainer: async (s) => new Seq2SeqTrainer(s),
  },
  {
    name: 'coref',
    task: 'coref',
    description: "encoder (@tx/blocks) over words on @tx/train's coref task: which word \"it\" refers to; the pointer is layer 1, head 0",
    settings: { ...COREF_SETTINGS, maxIters: 600, seed: 1337, evalInterval: 100, evalIters: 10 },
    trainer: async (s) => new CorefTrainer(s),
  },
];

async function main() {
  const backend = await initBackend({ prefer: 'wasm' });
  console.log(`backend: ${backend.backend}`);
  const only = flag('only');
  const iters = flag('iters');
  for (const b of BUILTINS.filter((x) => !only || x.name === only)) {
    const settings = { ...b.settings, ...(iters ? { maxIters: Number(iters) } : {}) };
    const trainer = await b.trainer(settings);
    console.log(`${b.name}: ${b.description}; ${trainer.model.numParameters()} parameters, vocab ${trainer.tokenizer.vocabSize}, ${settings.maxIters} iterations`);
    const t0 = Date.now();
    let last = { trainLoss: NaN, valLoss: NaN };
    for await (const e of trainer.run()) {
      if (e.event === 'eval') {
        last = e;
        console.log(`  step ${e.step}: train ${e.trainLoss.toFixed(3)} val ${e.valLoss.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
    const results: Record<string, number> = { trainLoss: last.trainLoss, valLoss: last.valLoss };
    let spec: ModelSpec;
    if (trainer.kind === 'encoder-decoder') {
      const predictions = await translateAll(trainer.model, trainer.tokenizer, trainer.valExamples.map((e) => e.source));
      results.exactMatch = exactMatch(predictions, trainer.valExamples);
      console.log(`  exact match on ${trainer.valExamples.length} validation dates: ${(100 * results.exactMatch).toFixed(1)}%`);
      trainer.valExamples.slice(0, 4).forEach((e, i) => console.log(`    ${e.source} -> ${predictions[i]}`));
      spec = { kind: 'encoder-decoder', config: { ...trainer.model.config }, specials: trainer.specials };
    } else if (trainer.kind === 'encoder') {
      // Fresh held-out sentences, as `tx eval` scores them.
      const score = await evaluateCoref(trainer.model, trainer.tokenizer, makeCorefExamples(1000, new Rng(settings.seed + 99), 'val'));
      Object.assign(results, { accuracy: score.accuracy, headAccuracy: score.headAccuracy, meanProbability: score.meanProbability });
      console.log(`  on 1000 fresh held-out sentences: accuracy ${(100 * score.accuracy).toFixed(1)}%, coref head largest on the referent ${(100 * score.headAccuracy).toFixed(1)}%`);
      for (const text of ["The animal didn't cross the street because it was too tired.", "The animal didn't cross the street because it was too wide."]) {
        const r = await inspectEncoder(trainer.model, trainer.tokenizer, text);
        console.log(`    ${text} -> it = ${r.referent!.token} (${(100 * r.referent!.p).toFixed(1)}%)`);
      }
      spec = { kind: 'encoder', config: { ...trainer.model.config, pointerHead: [...trainer.model.config.pointerHead] as [number, number] } };
    } else {
      spec = { kind: 'gpt', config: { ...trainer.model.config } };
    }
    const out = join(demo, 'public/models', b.name);
    await mkdir(out, { recursive: true });
    const state = trainer.model.stateDict();
    await writeFile(join(out, 'model.safetensors'), await serializeSafetensors(state, { format: 'pt' }));
    tf.dispose(Object.values(state));
    const manifest = exportManifest(b.task, spec, {
      description: b.description,
      training: { step: trainer.step, ...results, ...settings, script: 'apps/demo/scripts/train-builtins.ts' },
    });
    await writeFile(join(out, 'config.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(join(out, 'tokenizer.json'), `${JSON.stringify(trainer.tokenizer.toJSON())}\n`);
    console.log(`  wrote ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    trainer.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
