// Training in the page (and in scripts/train-builtins.ts) with @tx/train's
// trainLoop, on @tx/blocks models: a character GPT on a text, the dates
// encoder-decoder, or the coref encoder (which word "it" refers to). The loop yields to the event loop after every step, so the
// page stays responsive; pausing aborts the loop between steps and resuming
// starts a new one at the same step with the same optimizer (its moments are kept).
import { Encoder, EncoderDecoderTransformer, GPT, encoderConfig, seq2seqConfig, type GPTConfig, type Seq2SeqSpecials } from '@tx/blocks';
import { Rng, tf, type Module } from '@tx/core';
import { CharTokenizer, type WordTokenizer } from '@tx/tokenizer';
import {
  AdamW, TokenDataset, corefBatch, corefTokenizer, cosineWithWarmup, examplesBatch, languageModelLoss, makeCorefExamples, makeExamples, pointerLoss, seq2seqLoss, specialsOf, taskTokenizer, trainLoop,
  type Batch, type CorefExample, type Example, type PointerBatch, type Seq2SeqBatch, type TrainEvent, type TrainLoopOptions,
} from '@tx/train';

export interface TrainSettings {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Context (GPT) or longest sequence (encoder-decoder). */
  blockSize: number;
  batchSize: number;
  lr: number;
  maxIters: number;
  seed: number;
  evalInterval: number;
  /** Global gradient-norm clip (0 = off). Default 1. */
  gradClip?: number;
  /** AdamW weight decay (default 0.1). */
  weightDecay?: number;
  /** Batches per eval (default 4). */
  evalIters?: number;
}

export const PRESETS: Record<'tiny' | 'small', Omit<TrainSettings, 'seed' | 'maxIters' | 'evalInterval'>> = {
  // Fast enough for software WebGPU (SwiftShader) in tests.
  tiny: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, lr: 1e-2 },
  small: { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 32, batchSize: 16, lr: 3e-3 },
};

/** What both trainers share: a run that can pause and resume. */
abstract class BaseTrainer<B> {
  readonly rng: Rng;
  abstract readonly model: Module;
  abstract readonly optimizer: AdamW;
  step = 0;
  /** The last step's gradient norm (before clipping). */
  gradNorm = NaN;
  private controller: AbortController | null = null;

  constructor(readonly settings: TrainSettings) {
    this.rng = new Rng(settings.seed);
  }

  get running(): boolean {
    return this.controller !== null;
  }

  protected abstract loss(b: B): tf.Scalar;
  protected abstract sample(split: 'train' | 'val', rng: Rng): B;
  protected abstract tokensPerBatch(): number | ((batch: B) => number);
  protected warmup(): number {
    return Math.min(20, Math.floor(this.settings.maxIters / 10));
  }

  /** Train until maxIters or pause(); events as trainLoop's. */
  async *run(): AsyncGenerator<TrainEvent> {
    if (this.controller) throw new Error('already training');
    const s = this.settings;
    this.controller = new AbortController();
    const options: TrainLoopOptions<B> = {
      model: this.model,
      loss: (b) => this.loss(b),
      sample: (split, rng) => this.sample(split, rng),
      tokensPerBatch: this.tokensPerBatch(),
      optimizer: this.optimizer,
      schedule: cosineWithWarmup({ lr: s.lr, minLr: s.lr / 10, warmupIters: this.warmup(), decayIters: Math.max(s.maxIters, this.warmup() + 1) }),
      rng: this.rng,
      maxIters: s.maxIters,
      startIter: this.step,
      evalInterval: s.evalInterval,
      evalIters: s.evalIters ?? 4,
      gradClip: s.gradClip ?? 1,
      signal: this.controller.signal,
    };
    try {
      for await (const e of trainLoop(options)) {
        if (e.event === 'step') { this.step = e.step; this.gradNorm = e.gradNorm; }
        yield e;
      }
    } finally {
      this.controller = null;
      if (this.disposeAfterRun) this.free();
      else this.model.eval();
    }
  }

  pause(): void {
    this.controller?.abort();
  }

  /** The model now belongs to other views too: dispose() will free only the optimizer. */
  release(): void {
    this.keepModel = true;
  }

  /** Free the tensors; while a step is running, once the loop has stopped. */
  dispose(): void {
    if (this.controller) {
      this.disposeAfterRun = true;
      this.pause();
      return;
    }
    this.free();
  }

  private disposeAfterRun = false;
  private keepModel = false;

  private free(): void {
    if (!this.keepModel) this.model.dispose();
    this.optimizer.dispose();
  }
}

/** A character GPT (@tx/blocks) on a text: nanoGPT's random windows, next-token cross-entropy. */
export class Trainer extends BaseTrainer<Batch> {
  readonly kind = 'gpt';
  readonly tokenizer: CharTokenizer;
  readonly model: GPT;
  readonly dataset: TokenDataset;
  readonly optimizer: AdamW;

  constructor(readonly corpus: string, settings: TrainSettings) {
    super(settings);
    this.tokenizer = CharTokenizer.fromText(corpus);
    this.model = new GPT(this.modelConfig(), { rng: new Rng(settings.seed + 1) });
    this.dataset = new TokenDataset(this.tokenizer.encode(corpus), { name: 'the training text' });
    this.optimizer = new AdamW(this.model.namedParameters(), { lr: settings.lr, beta2: 0.99, weightDecay: settings.weightDecay ?? 0.1 });
  }

  modelConfig(): GPTConfig {
    const s = this.settings;
    return { vocabSize: this.tokenizer.vocabSize, blockSize: s.blockSize, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, dropout: 0, bias: true };
  }

  protected loss(b: Batch): tf.Scalar {
    return languageModelLoss(this.model, b);
  }

  protected sample(split: 'train' | 'val', rng: Rng): Batch {
    return this.dataset.batch(split, this.settings.batchSize, this.settings.blockSize, rng);
  }

  protected tokensPerBatch(): number {
    return this.settings.batchSize * this.settings.blockSize;
  }
}

/** The dates encoder-decoder (@tx/blocks) on @tx/train's makeExamples('dates'), as `tx train --task dates`. */
export class Seq2SeqTrainer extends BaseTrainer<Seq2SeqBatch> {
  readonly kind = 'encoder-decoder';
  readonly tokenizer: CharTokenizer;
  readonly specials: Seq2SeqSpecials;
  readonly model: EncoderDecoderTransformer;
  readonly optimizer: AdamW;
  /** A fixed validation set; training examples are drawn fresh from the batch rng. */
  readonly valExamples: Example[];

  constructor(settings: TrainSettings) {
    super(settings);
    this.tokenizer = taskTokenizer('dates');
    this.specials = specialsOf(this.tokenizer);
    this.model = new EncoderDecoderTransformer(seq2seqConfig(this.tokenizer.vocabSize, { nLayer: settings.nLayer, nHead: settings.nHead, dModel: settings.nEmbd, blockSize: settings.blockSize }), { rng: new Rng(settings.seed + 1) });
    this.optimizer = new AdamW(this.model.namedParameters(), { lr: settings.lr, beta2: 0.99, weightDecay: settings.weightDecay ?? 0.01 });
    this.valExamples = makeExamples('dates', 256, new Rng(settings.seed + 7));
  }

  protected loss(b: Seq2SeqBatch): tf.Scalar {
    return seq2seqLoss(this.model, b, { padId: this.specials.pad });
  }

  protected sample(split: 'train' | 'val', rng: Rng): Seq2SeqBatch {
    const n = this.settings.batchSize;
    const examples = split === 'val' ? Array.from({ length: n }, () => this.valExamples[rng.int(this.valExamples.length)]) : makeExamples('dates', n, rng);
    return examplesBatch(this.tokenizer, examples);
  }

  protected tokensPerBatch(): (b: Seq2SeqBatch) => number {
    return (b) => b.batchSize * (b.srcLength + b.tgtLength);
  }
}

/**
 * The coref encoder (@tx/blocks' Encoder over words) on @tx/train's coref task, as
 * `tx train --task coref`: its pointer is head 0 of its last layer, trained with
 * cross-entropy against the referent's position. Two layers at least: the
 * pointer's layer must read what an earlier layer gathered from the adjective.
 */
export class CorefTrainer extends BaseTrainer<PointerBatch> {
  readonly kind = 'encoder';
  readonly tokenizer: WordTokenizer;
  readonly model: Encoder;
  readonly optimizer: AdamW;
  /** A fixed set of validation sentences (held-out triples); training sentences are drawn fresh. */
  readonly valExamples: CorefExample[];

  constructor(settings: TrainSettings) {
    super(settings);
    this.tokenizer = corefTokenizer();
    this.model = new Encoder(encoderConfig(this.tokenizer.vocabSize, { nLayer: settings.nLayer, nHead: settings.nHead, dModel: settings.nEmbd, blockSize: settings.blockSize }), { rng: new Rng(settings.seed + 1) });
    this.optimizer = new AdamW(this.model.namedParameters(), { lr: settings.lr, beta2: 0.99, weightDecay: settings.weightDecay ?? 0.01 });
    this.valExamples = makeCorefExamples(256, new Rng(settings.seed + 7), 'val');
  }

  protected override warmup(): number {
    return Math.min(50, Math.floor(this.settings.maxIters / 10));
  }

  protected loss(b: PointerBatch): tf.Scalar {
    return pointerLoss(this.model, b);
  }

  protected sample(split: 'train' | 'val', rng: Rng): PointerBatch {
    const n = this.settings.batchSize;
    const examples = split === 'val' ? Array.from({ length: n }, () => this.valExamples[rng.int(this.valExamples.length)]) : makeCorefExamples(n, rng, 'train');
    return corefBatch(this.tokenizer, examples);
  }

  protected tokensPerBatch(): (b: PointerBatch) => number {
    return (b) => b.batchSize * b.length;
  }
}

/** The coref model of the site (built-in and trained in the page): 2 layers, 4 heads, 32 channels, 28k parameters. */
export const COREF_SETTINGS: Omit<TrainSettings, 'seed' | 'maxIters' | 'evalInterval'> = { nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 32, batchSize: 32, lr: 3e-3, weightDecay: 0.01 };

export type AnyTrainer = Trainer | Seq2SeqTrainer | CorefTrainer;
