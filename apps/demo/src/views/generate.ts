// View 5, generate: tokens stream from @tx/generate's streamTokens as they
// are chosen, with the next-token probabilities (the final linear layer's
// logits through the processors and softmax) as bars. The model is a
// @tx/blocks GPT, decoding with its KV cache. The first time the view is
// shown, its default prompt runs once, so it never opens empty.
import { streamTokens } from '@tx/generate';
import { displayToken } from '../lib/data.js';
import { h } from '../dom.js';
import { encodeKnown } from '../model/run.js';
import type { LoadedGPT } from '../model/checkpoint.js';

export class GenerateView {
  readonly root = h('div.generate');
  private model: LoadedGPT | null = null;
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
  private visible = false;
  private arrived = false;

  constructor() {
    this.temperature.addEventListener('input', () => (this.labels.temperature.textContent = Number(this.temperature.value).toFixed(2)));
    this.topP.addEventListener('input', () => (this.labels.topP.textContent = Number(this.topP.value).toFixed(2)));
    this.button.addEventListener('click', () => void (this.controller ? this.controller.abort() : this.run()));
    this.root.append(
      h('div.controls', {},
        h('label', {}, 'Prompt ', this.prompt),
        h('label', {}, 'Temperature ', this.temperature, this.labels.temperature),
        h('label', {}, 'Top-k ', this.topK),
        h('label', {}, 'Top-p ', this.topP, this.labels.topP),
        h('label', {}, 'Tokens ', this.maxTokens),
        this.button),
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, 'The text, streaming (prompt in grey)'), this.output),
        h('figure', {}, h('figcaption', {}, 'Next-token probabilities at the last step (after temperature, top-k, top-p)'), this.bars)),
      this.stats);
  }

  setModel(m: LoadedGPT): void {
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

  async run(): Promise<void> {
    const m = this.model;
    if (!m) return;
    const ids = encodeKnown(m.tokenizer, this.prompt.value);
    const promptIds = ids.length ? ids : [0];
    this.controller = new AbortController();
    this.button.textContent = 'Stop';
    this.output.replaceChildren(h('span.prompt', {}, m.tokenizer.decode(promptIds)));
    this.output.dataset.tokens = '0';
    this.output.dataset.done = 'false';
    this.arrived = true;
    const t0 = performance.now();
    let n = 0;
    try {
      const topK = Number(this.topK.value);
      for await (const tok of streamTokens(m.model, promptIds, {
        maxNewTokens: Number(this.maxTokens.value) || 100,
        temperature: Number(this.temperature.value),
        topK: topK > 0 ? topK : undefined,
        topP: Number(this.topP.value),
        seed: 1337,
        tokenizer: m.tokenizer,
        topN: 10,
        signal: this.controller.signal,
      })) {
        n += 1;
        this.output.append(h('span.token', { title: `p = ${Math.exp(tok.logprob).toFixed(3)}` }, tok.text));
        this.output.dataset.tokens = String(n);
        this.drawBars(tok.top, tok.id);
        this.stats.textContent = `${n} tokens · ${(n / ((performance.now() - t0) / 1000)).toFixed(1)} tokens/s · ${m.name}`;
      }
    } finally {
      this.controller = null;
      this.button.textContent = 'Generate';
      this.output.dataset.done = 'true';
    }
  }

  private drawBars(top: Array<{ id: number; text: string; p: number }>, chosen: number): void {
    this.bars.replaceChildren(...top.map((t) => h('div.bar-row', { class: t.id === chosen ? 'chosen' : '' },
      h('span.bar-label', {}, displayToken(t.text)),
      h('span.bar', {}, h('span', { style: `width:${(100 * t.p).toFixed(1)}%` })),
      h('span.bar-value', {}, t.p.toFixed(3)))));
  }
}
