// View 6, encoder-decoder alignment: which input character each output
// character looks at. From a loaded `tx inspect` JSON with "cross", this is
// the encoder-decoder's cross-attention. From the built-in dates model (a
// decoder-only stand-in until @tx/blocks has the encoder-decoder), it is the
// part of self-attention from the ISO output (after "=") to the human input.
import { displayToken, type InspectData } from '../lib/data.js';
import { h, select } from '../dom.js';
import { drawMatrix } from './attention-canvas.js';
import type { LoadedModel } from '../model/checkpoint.js';
import { asLanguageModel, inspect } from '../model/run.js';
import { generate } from '@tx/generate';

export interface Alignment {
  source: string[];
  target: string[];
  /** [layer][head][target][source] */
  weights: number[][][][];
  note: string;
}

/** Cut the output-to-input block out of a decoder-only model's attention over "input=output". */
export function alignmentFromSelfAttention(data: InspectData, separator = '='): Alignment | null {
  const sep = data.tokens.indexOf(separator);
  if (sep < 0) return null;
  const source = data.tokens.slice(0, sep);
  // The row of position i predicts token i+1: queries from "=" to the second-to-last output character.
  const rows = Array.from({ length: data.tokens.length - sep - 1 }, (_, i) => sep + i);
  const target = rows.map((r) => data.tokens[r + 1]);
  const weights = data.attention.map((layer) => layer.map((head) => rows.map((r) => head[r].slice(0, sep))));
  return { source, target, weights, note: 'decoder-only stand-in: each output character (row, as it is predicted) over the human input (columns)' };
}

export class EncDecView {
  readonly root = h('div.encdec');
  private model: LoadedModel | null = null;
  private alignment: Alignment | null = null;
  private layer = -1;
  private head = -1; // -1: mean over heads
  private readonly input = h('input#dates-input', { type: 'text', value: 'Friday, November 27th 2026', size: 32 });
  private readonly result = h('p#dates-result.stats');
  private readonly canvas = h('canvas#alignment');
  private readonly controls = h('div.controls');

  constructor() {
    this.root.append(
      h('div.controls', {}, h('label', {}, 'A date, any format ', this.input), h('button#dates-run', { type: 'button', onclick: () => void this.run() }, 'Rewrite as ISO 8601')),
      this.result, this.controls,
      h('figure', {}, h('figcaption#alignment-caption', {}, 'Alignment'), this.canvas));
  }

  setModel(m: LoadedModel | null): void {
    this.model = m;
  }

  /** Show an encoder-decoder's cross-attention from `tx inspect` JSON. */
  setCross(data: InspectData): void {
    if (!data.cross || !data.sourceTokens) return;
    this.show({ source: data.sourceTokens, target: data.tokens, weights: data.cross, note: 'encoder-decoder cross-attention from the loaded inspect JSON' });
  }

  async run(): Promise<void> {
    const m = this.model;
    if (!m) { this.result.textContent = 'The dates model is not loaded.'; return; }
    const prompt = `${this.input.value.trim()}=`;
    const out = await generate(asLanguageModel(m.model), m.tokenizer.encode(prompt), { greedy: true, maxNewTokens: 12, stop: ['\n'], tokenizer: m.tokenizer });
    this.result.textContent = `${this.input.value.trim()} → ${out.text}`;
    this.result.dataset.iso = out.text;
    const unknown = m.tokenizer.unknown(this.input.value);
    if (unknown.length) this.result.textContent += ` (ignored characters the model never saw: ${unknown.join(' ')})`;
    const data = await inspect(m.model, m.tokenizer, prompt + out.text);
    const a = alignmentFromSelfAttention(data);
    if (a) this.show(a);
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
    const m = this.head >= 0 ? heads[this.head] : heads[0].map((row, i) => row.map((_, j) => heads.reduce((s, hd) => s + hd[i][j], 0) / heads.length));
    document.getElementById('alignment-caption')!.textContent = `Alignment, layer ${this.layer}, ${this.head >= 0 ? `head ${this.head}` : 'mean of heads'}: ${a.note}. Output ${a.target.map(displayToken).join('')}`;
    drawMatrix(this.canvas, m, Math.min(720, 14 * Math.max(a.source.length, a.target.length) + 56), { rowLabels: a.target, colLabels: a.source });
    this.canvas.dataset.rows = String(a.target.length);
  }
}
