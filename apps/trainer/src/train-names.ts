// `tx train` (default): fit the bigram model to the embedded names corpus.
import { Rng, initBackend, tf, type BackendPreference } from '@tx/core';
import { saveSafetensorsFile, writeFileAtomic } from '@tx/core/node';
import { join } from 'node:path';
import { Bigram, CharVocab } from './bigram.js';
import { loadNames } from './names.js';

export interface TrainOptions {
  maxIters: number;
  batchSize: number;
  lr: number;
  seed: number;
  backend: BackendPreference;
  out: string;
  evalInterval: number;
  samples: number;
  /** Receives one event object per step, eval and the end. */
  onEvent: (event: TrainEvent) => void;
}

export type TrainEvent =
  | { event: 'start'; backend: string; fellBackFrom: string | null; reason: string | null; vocabSize: number; trainPairs: number; valPairs: number; parameters: number }
  | { event: 'step'; step: number; loss: number; lr: number; ms: number; tokensPerSecond: number }
  | { event: 'eval'; step: number; trainLoss: number; valLoss: number }
  | { event: 'sample'; text: string }
  | { event: 'done'; checkpoint: string; valLoss: number };

export async function trainNames(opts: TrainOptions): Promise<void> {
  const backend = await initBackend({ prefer: opts.backend });
  const rng = new Rng(opts.seed);
  const names = loadNames();
  // A seeded shuffle, then 90% of the names for training and 10% for validation.
  for (let i = names.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [names[i], names[j]] = [names[j], names[i]];
  }
  const vocab = new CharVocab(names);
  const split = Math.floor(names.length * 0.9);
  const toPairs = (words: string[]) => {
    const x: number[] = [];
    const y: number[] = [];
    for (const w of words) {
      const ids = [0, ...vocab.encode(w), 0];
      for (let i = 0; i + 1 < ids.length; i++) {
        x.push(ids[i]);
        y.push(ids[i + 1]);
      }
    }
    return { x: Int32Array.from(x), y: Int32Array.from(y) };
  };
  const train = toPairs(names.slice(0, split));
  const val = toPairs(names.slice(split));

  const model = new Bigram(vocab.size, rng);
  opts.onEvent({ event: 'start', ...backend, backend: backend.backend, vocabSize: vocab.size, trainPairs: train.x.length, valPairs: val.x.length, parameters: model.numParameters() });

  const optimizer = tf.train.adam(opts.lr);
  const lossOn = (data: { x: Int32Array; y: Int32Array }) =>
    tf.tidy(() => model.loss(tf.tensor1d(data.x, 'int32'), tf.tensor1d(data.y, 'int32')).dataSync()[0]);
  const bx = new Int32Array(opts.batchSize);
  const by = new Int32Array(opts.batchSize);
  let valLoss = NaN;
  for (let step = 1; step <= opts.maxIters; step++) {
    const t0 = performance.now();
    for (let i = 0; i < opts.batchSize; i++) {
      const k = rng.int(train.x.length);
      bx[i] = train.x[k];
      by[i] = train.y[k];
    }
    const loss = tf.tidy(() => {
      const cost = optimizer.minimize(() => model.loss(tf.tensor1d(bx, 'int32'), tf.tensor1d(by, 'int32')), true, model.parameters());
      return cost!.dataSync()[0];
    });
    if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step}; lower --lr`);
    const ms = performance.now() - t0;
    opts.onEvent({ event: 'step', step, loss, lr: opts.lr, ms, tokensPerSecond: (opts.batchSize / ms) * 1000 });
    if (step % opts.evalInterval === 0 || step === opts.maxIters) {
      valLoss = lossOn(val);
      opts.onEvent({ event: 'eval', step, trainLoss: lossOn(train), valLoss });
    }
  }
  optimizer.dispose();

  const sd = model.stateDict();
  await saveSafetensorsFile(join(opts.out, 'model.safetensors'), sd, { format: 'pt' });
  tf.dispose(Object.values(sd));
  const config = { model: { kind: 'bigram', vocabSize: vocab.size }, tokenizer: { kind: 'char', chars: vocab.chars }, training: { steps: opts.maxIters, seed: opts.seed, valLoss } };
  await writeFileAtomic(join(opts.out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  for (let i = 0; i < opts.samples; i++) {
    const ids = await model.sample(rng);
    opts.onEvent({ event: 'sample', text: ids.map((id) => vocab.chars[id]).join('') });
  }
  model.dispose();
  opts.onEvent({ event: 'done', checkpoint: opts.out, valLoss });
}
