// View 5, generate: tokens stream from @tx/generate's streamTokens as they
// are chosen, with the next-token probabilities (the final linear layer's
// logits through the processors and softmax) as bars, sorted, at every step:
// "Step" takes one token at a time, and the slider shows any step's bars.
// The model is a @tx/blocks GPT, decoding with its KV cache. The first time
// the view is shown, its default prompt runs once, so it never opens empty.
import { streamTokens } from '@tx/generate';
import { nextTokenBars } from '../lib/bars.js';
import { displayToken } from '../lib/data.js';
import { tokenLabels } from '../lib/tokens.js';
import { h } from '../dom.js';
import { encodeKnown } from '../model/run.js';
import type { LoadedDecoder } from '../model/checkpoint.js';

export class GenerateView {
  readonly root = h('div.generate');
  private model: LoadedDecoder | null = null;
  private controller: AbortController | null = null;
  private readonly prompt = h('input#gen-prompt', { type: 'text', value: 'ROMEO:\n', size: 40 });
  private readonly temperature = h('input#gen-temperature', { type: 'range', min: 0.1, max: 2, step: 0.05, value: 0.8 });
  private readonly topK = h('input#gen-topk', { type: 'number', min: 0, max: 500, value: 20 });
  private readonly topP = h('input#gen-topp', { type: 'range', min: 0.05, max: 1, step: 0.05, value: 0.95 });
  private readonly maxTokens = h('input#gen-max', { type: 'number', min: 1, max: 2000, value: 120 });
  private readonly labels = { temperature: h('span', {}, '0.80'), topP: h('span', {}, '0.95') };
  private readonly output = h('pre#gen-output.output');
  private readonly bars = h('div#gen-bars.bars');
  private readonly stats = h('p#gen-stats.stats');
  private readonly button = h('button#gen-run', { type: 'button' }, 'Generate');
  private readonly stepButton = h('button#gen-step', { type: 'button' }, 'Step: one token');
  /** Which step's bars are shown (every step's are kept). */
  private readonly stepView = h('input#gen-step-view', { type: 'range', min: 1, max: 1, value: 1, 'aria-label': 'the step whose probabilities are shown' });
  private readonly stepLabel = h('span#gen-step-label');
  private steps: Array<{ top: Array<{ id: number; text: string; p: number }>; id: number; text: string }> = [];
  /** The decoding in progress, one token per next(): shared by Generate (all of them) and Step (one). */
  private stream: AsyncGenerator<{ id: number; text: string; logprob: number; top: Array<{ id: number; text: string; p: number }> }, unknown> | null = null;
  private t0 = 0;
  /** Generate is running (its button reads Stop). */
  private streaming = false;
  private visible = false;
  private arrived = false;

  constructor() {
    this.temperature.addEventListener('input', () => (this.labels.temperature.textContent = Number(this.temperature.value).toFixed(2)));
    this.topP.addEventListener('input', () => (this.labels.topP.textContent = Number(this.topP.value).toFixed(2)));
    this.button.addEventListener('click', () => void (this.streaming ? this.controller?.abort() : this.run()));
    this.stepButton.addEventListener('click', () => void this.step());
    this.stepView.addEventListener('input', () => this.showStep(Number(this.stepView.value) - 1));
    this.root.append(
      h('div.controls', {},
        h('label', {}, 'Prompt ', this.prompt),
        h('label', {}, 'Temperature ', this.temperature, this.labels.temperature),
        h('label', {}, 'Top-k ', this.topK),
        h('label', {}, 'Top-p ', this.topP, this.labels.topP),
        h('label', {}, 'Tokens ', this.maxTokens),
        this.button, this.stepButton),
      h('p.note', {}, 'One token at a time: each new token sees only the tokens before it (the causal mask sets every later position to −∞ before the softmax), the model gives a probability to every token of its vocabulary, one is drawn, and it joins the text for the next step.'),
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, 'The text, streaming (prompt in grey)'), this.output),
        h('figure', {}, h('figcaption', {}, 'Next-token probabilities, largest first (after temperature, top-k, top-p); the drawn token in orange'), h('div.controls', {}, h('label', {}, 'Step ', this.stepView), this.stepLabel), this.bars)),
      this.stats);
  }

  setModel(m: LoadedDecoder): void {
    this.controller?.abort();
    this.stream = null;
    this.model = m;
    this.stats.textContent = `Model: ${m.name}.`;
    this.arrive();
  }

  /** The view is shown (or hidden): on the first arrival with a model, run the default prompt. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.arrive();
  }

  private arrive(): void {
    if (!this.visible || !this.model || this.arrived || this.controller) return;
    this.arrived = true;
    void this.run();
  }

  /** Start decoding the prompt (a fresh stream), clearing the output. */
  private begin(m: LoadedDecoder): void {
    const ids = encodeKnown(m.tokenizer, this.prompt.value);
    const promptIds = ids.length ? ids : [0];
    this.controller = new AbortController();
    this.output.replaceChildren(h('span.prompt', {}, m.tokenizer.decode(promptIds)));
    this.output.dataset.tokens = '0';
    this.output.dataset.done = 'false';
    this.steps = [];
    this.arrived = true;
    this.t0 = performance.now();
    const topK = Number(this.topK.value);
    this.stream = streamTokens(m.model, promptIds, {
      maxNewTokens: Number(this.maxTokens.value) || 100,
      temperature: Number(this.temperature.value),
      topK: topK > 0 ? topK : undefined,
      topP: Number(this.topP.value),
      seed: 1337,
      tokenizer: m.tokenizer,
      topN: 10,
      signal: this.controller.signal,
    });
  }

  /** One token: its text joins the output, its bars are shown. False when the stream is over. */
  private async next(m: LoadedDecoder): Promise<boolean> {
    const r = await this.stream!.next();
    if (r.done) { this.finish(); return false; }
    const tok = r.value;
    this.steps.push({ top: tok.top, id: tok.id, text: tok.text });
    const n = this.steps.length;
    this.output.append(h('span.token', { title: `step ${n}: p = ${Math.exp(tok.logprob).toFixed(3)}` }, tok.text));
    this.output.dataset.tokens = String(n);
    this.stepView.max = String(n);
    this.stepView.value = String(n);
    this.showStep(n - 1);
    this.stats.textContent = `${n} tokens · ${(n / ((performance.now() - this.t0) / 1000)).toFixed(1)} tokens/s · ${m.name}`;
    return true;
  }

  private finish(): void {
    this.stream = null;
    this.controller = null;
    this.button.textContent = 'Generate';
    this.output.dataset.done = 'true';
  }

  /** Generate one token (starting from the prompt if nothing is in progress). */
  async step(): Promise<void> {
    const m = this.model;
    if (!m || this.streaming) return;
    if (!this.stream) this.begin(m);
    this.output.dataset.done = 'false';
    try {
      await this.next(m);
    } catch (err) {
      this.finish();
      this.stats.textContent = `Could not generate: ${(err as Error).message}`;
    }
  }

  /** Generate every token, streaming (continuing a stepped stream, or from the prompt). */
  async run(): Promise<void> {
    const m = this.model;
    if (!m) return;
    if (!this.stream) this.begin(m);
    this.button.textContent = 'Stop';
    this.streaming = true;
    try {
      while (await this.next(m)) { /* one token a turn of the loop */ }
    } catch (err) {
      if (!this.controller?.signal.aborted) this.stats.textContent = `Could not generate: ${(err as Error).message}`;
    } finally {
      await this.stream?.return(undefined);
      this.streaming = false;
      this.finish();
    }
  }

  private showStep(i: number): void {
    const s = this.steps[i];
    if (!s) return;
    this.stepLabel.textContent = `${i + 1} of ${this.steps.length}: drew “${displayToken(this.label(s.id, s.text))}”`;
    this.drawBars(s.top, s.id);
  }

  /** A token as the other views print it: "▁the" with its space, <0xE2> as ⟨E2⟩ (alone, it is a third of "€"). */
  private label(id: number, text: string): string {
    return this.model ? tokenLabels(this.model.tokenizer, [id])[0] : text;
  }

  private drawBars(top: Array<{ id: number; text: string; p: number }>, chosen: number): void {
    const { bars, hidden } = nextTokenBars(top, chosen);
    this.bars.dataset.values = JSON.stringify(bars.map((b) => b.p));
    this.bars.replaceChildren(...bars.map((t) => h('div.bar-row', { class: t.chosen ? 'chosen' : '' },
      h('span.bar-label', {}, displayToken(this.label(t.id, t.text))),
      h('span.bar', {}, h('span', { style: `width:${(100 * t.p).toFixed(1)}%` })),
      h('span.bar-value', {}, t.p.toFixed(3)))),
    hidden ? h('p.note', {}, `${hidden} more of the ten most likely at 0.000 (after top-k and top-p), not drawn`) : '');
  }
}
