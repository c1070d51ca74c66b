// View 6, encoder-decoder alignment: which input character each output
// character looked at. The built-in dates model is @tx/blocks'
// EncoderDecoderTransformer; the matrix is its real cross-attention (decoder
// queries over encoder keys) while it writes the ISO date. A loaded
// `tx inspect` JSON with "cross" shows that encoder-decoder's instead. The
// first time the view is shown, its default date runs once.
import { displayToken, type Attention, type InspectData } from '../lib/data.js';
import { h, select } from '../dom.js';
import { drawMatrix } from './attention-canvas.js';
import type { LoadedEncoderDecoder } from '../model/checkpoint.js';
import { encodeKnown, unknownChars } from '../model/run.js';
import { translate } from '../model/seq2seq.js';
import { inTrainedFormat, isoDateProblem } from '../lib/dates.js';

export interface Alignment {
  source: string[];
  target: string[];
  /** [layer][head][target][source] */
  weights: Attention;
  note: string;
}

export class EncDecView {
  readonly root = h('div.encdec');
  private model: LoadedEncoderDecoder | null = null;
  private alignment: Alignment | null = null;
  private layer = -1;
  private head = -1; // -1: mean over heads
  private readonly input = h('input#dates-input', { type: 'text', value: 'Friday, November 27th 2026', size: 32 });
  private readonly result = h('p#dates-result.stats');
  /** What qualifies the answer: an input outside the trained formats, an output that is not a date. */
  private readonly verdict = h('div#dates-verdict');
  private readonly canvas = h('canvas#alignment');
  private readonly controls = h('div.controls');
  private visible = false;
  private arrived = false;

  constructor() {
    this.root.append(
      h('div.controls', {}, h('label', {}, 'A date, any format ', this.input), h('button#dates-run', { type: 'button', onclick: () => void this.run() }, 'Rewrite as ISO 8601')),
      h('p.note', {}, 'It was trained on ten ways of writing a date between 1950 and 2049, such as “27 Nov 2026”, “11/27/26”, “27.11.2026” and “the 27th of November, 2026”. Anything else, it still answers with ten characters that look like a date: the page checks both ends.'),
      this.result, this.verdict, this.controls,
      h('figure', {}, h('figcaption#alignment-caption', {}, 'Alignment'), h('div.scroll', {}, this.canvas)));
  }

  setModel(m: LoadedEncoderDecoder | null): void {
    this.model = m;
    if (m) this.result.textContent = `Model: ${m.name}.`;
    this.arrive();
  }

  /** The view is shown (or hidden): on the first arrival with a model, rewrite the default date. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.arrive();
  }

  private arrive(): void {
    if (!this.visible || !this.model || this.arrived) return;
    this.arrived = true;
    void this.run();
  }

  /** Show an encoder-decoder's cross-attention from `tx inspect` JSON. */
  setCross(data: InspectData): void {
    if (!data.cross || !data.sourceTokens) return;
    this.show({ source: data.sourceTokens, target: data.tokens, weights: data.cross, note: 'encoder-decoder cross-attention from the loaded inspect JSON' });
  }

  async run(): Promise<void> {
    const m = this.model;
    if (!m) { this.result.textContent = 'No encoder-decoder is loaded.'; return; }
    const input = this.input.value.trim();
    this.arrived = true;
    try {
      const r = await translate(m.model, m.tokenizer, encodeKnown(m.tokenizer, input));
      this.result.textContent = `${input} → ${r.text}`;
      this.result.dataset.iso = r.text;
      const unknown = unknownChars(m.tokenizer, input);
      if (unknown.length) this.result.textContent += ` (ignored characters the model never saw: ${unknown.join(' ')})`;
      const trained = inTrainedFormat(input);
      const problem = isoDateProblem(r.text);
      this.result.dataset.valid = String(problem === null);
      this.result.dataset.trained = String(trained);
      this.verdict.replaceChildren(
        trained ? '' : h('p#dates-outside.note.warn', {}, `“${input}” is not written in any of the ten formats the model was trained on: its answer is a guess.`),
        problem ? h('p#dates-invalid.note.warn', {}, `${r.text} is not a date: ${problem}.`) : '');
      this.show({ source: r.source, target: r.target, weights: r.cross, note: `cross-attention of ${m.name}: each output character (row) over the input characters (columns)` });
    } catch (err) {
      this.result.textContent = `Could not run the model: ${(err as Error).message}`;
    }
  }

  private show(a: Alignment): void {
    this.alignment = a;
    if (this.layer < 0 || this.layer >= a.weights.length) this.layer = a.weights.length - 1;
    const L = a.weights.length, H = a.weights[0].length;
    this.controls.replaceChildren(
      h('label', {}, 'Layer ', select(Array.from({ length: L }, (_, l) => [String(l), String(l)]), String(this.layer), (v) => { this.layer = Number(v); this.draw(); })),
      h('label', {}, 'Head ', select([['-1', 'mean of heads'], ...Array.from({ length: H }, (_, i) => [String(i), String(i)] as [string, string])], String(this.head), (v) => { this.head = Number(v); this.draw(); })));
    this.draw();
  }

  private draw(): void {
    const a = this.alignment!;
    const heads = a.weights[this.layer];
    const m = this.head >= 0 ? heads[this.head] : heads[0].map((row, i) => Array.from(row, (_, j) => heads.reduce((s, hd) => s + hd[i][j], 0) / heads.length));
    document.getElementById('alignment-caption')!.textContent = `Alignment, layer ${this.layer}, ${this.head >= 0 ? `head ${this.head}` : 'mean of heads'}: ${a.note}. Output ${a.target.map(displayToken).join('')}`;
    drawMatrix(this.canvas, m, Math.min(720, 14 * Math.max(a.source.length, a.target.length) + 56), { rowLabels: a.target, colLabels: a.source });
    this.canvas.dataset.rows = String(a.target.length);
  }
}
