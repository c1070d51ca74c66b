// Training a small GPT in the page with @tx/train's trainLoop. The loop
// yields to the event loop after every step, so the page stays responsive;
// pausing aborts the loop between steps and resuming starts a new one at the
// same step with the same optimizer (its moments are kept).
import { Rng } from '@tx/core';
import { AdamW, TokenDataset, cosineWithWarmup, trainLoop, type Batch, type TrainEvent } from '@tx/train';
import { CharTokenizer } from '../lib/char-tokenizer.js';
import { GPT, type GPTConfig } from './gpt.js';

export interface TrainSettings {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batchSize: number;
  lr: number;
  maxIters: number;
  seed: number;
  evalInterval: number;
  /** Global gradient-norm clip (0 = off). Default 1. */
  gradClip?: number;
}

export const PRESETS: Record<'tiny' | 'small', Omit<TrainSettings, 'seed' | 'maxIters' | 'evalInterval'>> = {
  // Fast enough for software WebGPU (SwiftShader) in tests.
  tiny: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, lr: 1e-2 },
  small: { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 32, batchSize: 16, lr: 3e-3 },
};

export class Trainer {
  readonly tokenizer: CharTokenizer;
  readonly model: GPT;
  readonly dataset: TokenDataset;
  readonly optimizer: AdamW;
  readonly rng: Rng;
  step = 0;
  private controller: AbortController | null = null;

  constructor(readonly corpus: string, readonly settings: TrainSettings) {
    this.tokenizer = CharTokenizer.fromText(corpus);
    const config: GPTConfig = { vocabSize: this.tokenizer.vocabSize, blockSize: settings.blockSize, nLayer: settings.nLayer, nHead: settings.nHead, nEmbd: settings.nEmbd };
    this.rng = new Rng(settings.seed);
    this.model = new GPT(config, new Rng(settings.seed + 1));
    this.dataset = new TokenDataset(this.tokenizer.encode(corpus), { name: 'the training text' });
    this.optimizer = new AdamW(this.model.namedParameters(), { lr: settings.lr, beta2: 0.99, weightDecay: 0.1 });
  }

  get running(): boolean {
    return this.controller !== null;
  }

  /** Train until maxIters or pause(); events as trainLoop's. */
  async *run(): AsyncGenerator<TrainEvent> {
    if (this.controller) throw new Error('already training');
    const s = this.settings;
    this.controller = new AbortController();
    try {
      for await (const e of trainLoop({
        model: this.model,
        loss: (b: Batch) => this.model.loss(b.x, b.y, b.batchSize, b.blockSize),
        sample: (split, rng) => this.dataset.batch(split, s.batchSize, s.blockSize, rng),
        tokensPerBatch: s.batchSize * s.blockSize,
        optimizer: this.optimizer,
        schedule: cosineWithWarmup({ lr: s.lr, minLr: s.lr / 10, warmupIters: Math.min(20, Math.floor(s.maxIters / 10)), decayIters: s.maxIters }),
        rng: this.rng,
        maxIters: s.maxIters,
        startIter: this.step,
        evalInterval: s.evalInterval,
        evalIters: 4,
        gradClip: s.gradClip ?? 1,
        signal: this.controller.signal,
      })) {
        if (e.event === 'step') this.step = e.step;
        yield e;
      }
    } finally {
      this.controller = null;
    }
  }

  pause(): void {
    this.controller?.abort();
  }

  dispose(): void {
    this.pause();
    this.model.dispose();
    this.optimizer.dispose();
  }
}
