// View 4, train here: a small @tx/blocks GPT learns names or pasted text, a
// small encoder-decoder learns the dates task, or the coref encoder learns
// which word "it" refers to (@tx/train's tasks), in the page. @tx/train's
// loop yields after every step, so the page stays live; the loss curve,
// tokens/s, samples and the attention picture update as it learns (for
// coref: the explainer's sentence, its light sharpening onto "animal").
// Pause stops between steps; resume continues the run.
import { generate } from '@tx/generate';
import { chartScale, downsample, ema, type Point } from '../lib/chart.js';
import { shuffleLines } from '../data/corpora.js';
import { h, select, sizeCanvas } from '../dom.js';
import { COREF_SETTINGS, CorefTrainer, PRESETS, Seq2SeqTrainer, Trainer, type AnyTrainer, type TrainSettings } from '../model/train.js';
import { inspectEncoder } from '../model/coref.js';
import { evaluateCoref } from '@tx/train';
import { drawSentence } from './sentence-canvas.js';
import { inspect } from '../model/run.js';
import { translate, type Translation } from '../model/seq2seq.js';
import { drawLines } from './attention-canvas.js';
import { exportManifest } from '@tx/train';
import type { LoadedModel } from '../model/checkpoint.js';

export interface TrainViewOptions {
  names: () => Promise<string>;
  /** Called with the trained model when the user adopts it for the other views. */
  onUse: (m: LoadedModel) => void;
  /** Query-string overrides for tests: iterations and preset. */
  iters?: number;
}

export class TrainView {
  readonly root = h('div.train');
  private trainer: AnyTrainer | null = null;
  private losses: Point[] = [];
  private vals: Point[] = [];
  private readonly chart = h('canvas#loss-chart');
  private readonly stats = h('p#train-stats.stats', {}, 'Not started.');
  private readonly samples = h('ol#train-samples.samples');
  private readonly picture = h('canvas#train-attention');
  private readonly button = h('button#train-toggle', { type: 'button' }, 'Train');
  private readonly reset = h('button#train-reset', { type: 'button' }, 'New model');
  private readonly use = h('button#train-use', { type: 'button', disabled: true }, 'Use this model in the other views');
  private source = 'names';
  private preset: keyof typeof PRESETS = 'tiny';
  private readonly text = h('textarea#train-text', { rows: 4, placeholder: 'Paste any text (a few KB or more) to train on it.' });
  private readonly itersInput: HTMLInputElement;
  /** The GPT's size: hidden for the coref and dates tasks, which ignore it. */
  private readonly presetLabel = h('label', {}, 'Model ', select([['tiny', 'tiny: 1 layer, 2 heads, 16 channels'], ['small', 'small: 2 layers, 4 heads, 64 channels']], this.preset, (v) => { this.preset = v as keyof typeof PRESETS; }, { id: 'train-preset' }));

  constructor(private readonly opts: TrainViewOptions) {
    this.itersInput = h('input#train-iters', { type: 'number', min: 10, max: 20000, value: String(opts.iters ?? 300) });
    this.button.addEventListener('click', () => void this.toggle());
    this.reset.addEventListener('click', () => { this.trainer?.dispose(); this.trainer = null; this.losses = []; this.vals = []; this.samples.replaceChildren(); this.stats.textContent = 'Not started.'; this.button.textContent = 'Train'; this.drawChart(); });
    this.use.addEventListener('click', () => {
      const t = this.trainer;
      if (!t) return;
      const name = `trained here (${this.source}, step ${t.step})`;
      t.release();
      if (t.kind === 'gpt') opts.onUse({ kind: 'gpt', name, model: t.model, tokenizer: t.tokenizer, manifest: exportManifest(this.source, { kind: 'gpt', config: t.model.config }) });
      else if (t.kind === 'encoder') opts.onUse({ kind: 'encoder', name, model: t.model, tokenizer: t.tokenizer, manifest: exportManifest('coref', { kind: 'encoder', config: t.model.config }) });
      else opts.onUse({ kind: 'encoder-decoder', name, model: t.model, tokenizer: t.tokenizer, specials: t.specials, manifest: exportManifest('dates', { kind: 'encoder-decoder', config: t.model.config, specials: t.specials }) });
    });
    this.root.append(
      h('div.controls', {},
        h('label', {}, 'Data ', select([['names', 'names (~8,800 first names)'], ['coref', 'coref: who is “it”? (encoder, 2 layers, 4 heads, 32 channels)'], ['dates', 'dates task (human → ISO), encoder-decoder'], ['text', 'text you paste']], this.source, (v) => {
          this.source = v;
          this.text.hidden = v !== 'text';
          this.presetLabel.hidden = v === 'coref' || v === 'dates'; // those tasks have their own model size
          this.drawChart();
        }, { id: 'train-source' })),
        this.presetLabel,
        h('label', {}, 'Iterations ', this.itersInput),
        this.button, this.reset, this.use),
      this.text,
      this.stats,
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, 'Cross-entropy loss per step (grey), smoothed (blue), validation (orange)'), h('div.scroll', {}, this.chart)),
        h('figure', {}, h('figcaption', {}, 'Attention of the last layer on a sample, as it learns (dates: cross-attention, output over input; coref: the light of “it” in the explainer’s sentence)'), h('div.scroll', {}, this.picture))),
      h('h3', {}, 'Samples as it learns'), this.samples);
    this.text.hidden = true;
    this.drawChart();
  }

  private async newTrainer(settings: TrainSettings): Promise<AnyTrainer> {
    // The dates task: the encoder-decoder reads sources up to ~36 characters.
    if (this.source === 'dates') return new Seq2SeqTrainer({ ...settings, blockSize: 48 });
    // The coref model has its own size: its pointer layer must come after a layer that reads the adjective.
    if (this.source === 'coref') return new CorefTrainer({ ...settings, ...COREF_SETTINGS });
    return new Trainer(await this.corpus(), settings);
  }

  private async corpus(): Promise<string> {
    if (this.source === 'names') return shuffleLines(await this.opts.names(), mulberry(1));
    const text = this.text.value;
    if (text.length < 200) throw new Error('paste at least 200 characters of text');
    return text;
  }

  private async toggle(): Promise<void> {
    if (this.trainer?.running) {
      this.trainer.pause();
      return;
    }
    try {
      if (!this.trainer) {
        const p = PRESETS[this.preset];
        // Gradient clipping at 1.0 on every backend: @tx/train's clipGradNorm reads nothing synchronously.
        this.trainer = await this.newTrainer({ ...p, maxIters: Number(this.itersInput.value) || 300, seed: 1337, evalInterval: 50, gradClip: 1 });
        this.stats.dataset.gradClip = String(this.trainer.settings.gradClip);
        this.losses = []; this.vals = [];
      }
      await this.run(this.trainer);
    } catch (err) {
      this.stats.textContent = `Training failed: ${(err as Error).message}`;
      this.button.textContent = 'Train';
    }
  }

  private async run(t: AnyTrainer): Promise<void> {
    this.button.textContent = 'Pause';
    // The first step compiles the backend's kernels (seconds on WebGPU): say so rather than look frozen.
    this.root.dataset.state = t.step === 0 ? 'compiling' : 'training';
    if (t.step === 0) this.stats.textContent = 'compiling… (the first step builds the kernels of this backend)';
    let lastDraw = 0;
    for await (const e of t.run()) {
      if (e.event === 'step') {
        this.root.dataset.state = 'training';
        this.losses.push({ x: e.step, y: e.loss });
        this.stats.textContent = `step ${e.step} / ${t.settings.maxIters} · loss ${e.loss.toFixed(3)} · ${Math.round(e.tokensPerSecond)} tokens/s · lr ${e.lr.toExponential(1)}`;
        this.stats.dataset.step = String(e.step);
        this.stats.dataset.loss = String(e.loss);
        this.stats.dataset.gradNorm = String(e.gradNorm);
        if (performance.now() - lastDraw > 250) { this.drawChart(); lastDraw = performance.now(); }
      } else if (e.event === 'eval') {
        this.vals.push({ x: e.step, y: e.valLoss });
        this.drawChart();
        await this.snapshot(t);
      } else {
        this.root.dataset.state = e.aborted ? 'paused' : 'done';
        this.stats.dataset.firstLoss = String(this.losses[0]?.y ?? NaN);
        this.stats.dataset.lastLoss = String(ema(this.losses.map((p) => p.y), 0.8).at(-1) ?? NaN);
      }
    }
    this.drawChart();
    this.button.textContent = t.step >= t.settings.maxIters ? 'Done' : 'Resume';
    this.button.disabled = t.step >= t.settings.maxIters;
    this.use.disabled = false;
  }

  /** A sample and the attention picture, at each eval. */
  private async snapshot(t: AnyTrainer): Promise<void> {
    if (t.kind === 'encoder') {
      const score = await evaluateCoref(t.model, t.tokenizer, t.valExamples);
      const answers: string[] = [];
      for (const text of [TIRED, WIDE]) {
        const r = await inspectEncoder(t.model, t.tokenizer, text);
        answers.push(`${text.includes('tired') ? 'tired' : 'wide'}: it = ${r.referent!.token} (${Math.round(100 * r.referent!.p)}%)`);
        if (text === TIRED) drawSentence(this.picture, r.attention, r.tokens, { layer: r.corefHead![0], heads: r.attention[0].map((_, i) => i), selected: r.pronoun!, width: 420, marked: r.referent!.index });
      }
      this.samples.prepend(h('li', {}, h('span.step', {}, `step ${t.step}: `), `${answers.join(' · ')} · validation accuracy ${(100 * score.accuracy).toFixed(1)}%`));
      this.stats.dataset.accuracy = String(score.accuracy);
    } else if (t.kind === 'encoder-decoder') {
      const examples = t.valExamples.slice(0, 3);
      const results: Translation[] = [];
      for (const e of examples) results.push(await translate(t.model, t.tokenizer, t.tokenizer.encode(e.source)));
      this.samples.prepend(h('li', {}, h('span.step', {}, `step ${t.step}: `), examples.map((e, i) => `${e.source} → ${results[i].text}`).join(' · ')));
      const r = results[0];
      drawLines(this.picture, r.cross, r.target, { keys: r.source, layer: r.cross.length - 1, heads: r.cross[0].map((_, i) => i), width: 320, maxHeight: 360 });
    } else {
      t.model.eval();
      const start = t.tokenizer.encode('\n');
      const out = await generate(t.model, start.length ? start : [0], { maxNewTokens: 40, seed: t.step, tokenizer: t.tokenizer, temperature: 0.8 });
      this.samples.prepend(h('li', {}, h('span.step', {}, `step ${t.step}: `), out.text.replace(/\n/g, ' · ')));
      const sample = (out.text.split('\n').find((s) => s.length > 3) ?? out.text).slice(0, t.model.config.blockSize);
      if (sample.length) {
        const last = t.model.config.nLayer - 1;
        const r = await inspect(t.model, t.tokenizer, sample, { layer: last });
        drawLines(this.picture, r.attention, r.tokens, { layer: last, heads: r.attention[last].map((_, i) => i), width: 320, maxHeight: 360 });
      }
      t.model.train();
    }
    while (this.samples.children.length > 8) this.samples.lastChild!.remove();
  }

  private drawChart(): void {
    const W = 420, H = 240;
    const ctx = sizeCanvas(this.chart, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    const pts = downsample(this.losses, 400);
    const s = chartScale([...pts, ...this.vals], W, H);
    ctx.strokeStyle = '#dde'; ctx.fillStyle = '#556'; ctx.font = '11px system-ui';
    for (const y of [s.yMin, (s.yMin + s.yMax) / 2, s.yMax]) {
      const p = s.toPx({ x: s.xMin, y });
      ctx.beginPath(); ctx.moveTo(28, p.y); ctx.lineTo(W - 28, p.y); ctx.stroke();
      ctx.fillText(y.toFixed(2), 2, p.y + 4);
    }
    ctx.fillText('cross-entropy (nats)', 32, 12);
    // The coref task's plateau: a pointer that cannot yet tell the two nouns apart scores ln 2.
    if (this.source === 'coref' && Math.LN2 > s.yMin && Math.LN2 < s.yMax) {
      const p = s.toPx({ x: s.xMin, y: Math.LN2 });
      ctx.save(); ctx.setLineDash([4, 4]); ctx.strokeStyle = '#d55e00';
      ctx.beginPath(); ctx.moveTo(28, p.y); ctx.lineTo(W - 28, p.y); ctx.stroke(); ctx.restore();
      ctx.fillStyle = '#8a2c0d';
      ctx.fillText('ln 2 ≈ 0.69: guessing between two nouns', 120, p.y - 4);
      ctx.fillStyle = '#556';
    }
    const line = (points: Point[], colour: string, width: number) => {
      if (points.length < 2) return;
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
      points.forEach((p, i) => { const q = s.toPx(p); if (i === 0) ctx.moveTo(q.x, q.y); else ctx.lineTo(q.x, q.y); });
      ctx.stroke();
    };
    line(pts, '#bbc', 1);
    const sm = ema(pts.map((p) => p.y), 0.9);
    line(pts.map((p, i) => ({ x: p.x, y: sm[i] })), '#1f77b4', 2);
    line(this.vals, '#ff7f0e', 2);
    ctx.fillStyle = '#556';
    ctx.fillText(`step ${Math.round(s.xMax)}`, W - 70, H - 8);
  }
}

const TIRED = "The animal didn't cross the street because it was too tired.";
const WIDE = "The animal didn't cross the street because it was too wide.";

/** A tiny seeded generator for shuffling the corpus. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
