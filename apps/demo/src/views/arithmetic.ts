// View 2, one token's arithmetic: for the picked token, layer and head, the
// model's real q, the other tokens' k, q·k, the scaling by √d_k, the
// softmax, and the weighted sum of the v's. The softmax row is checked
// against the attention the model itself returned. A GPT's inspection holds
// one layer: picking another asks the page to read it (onLayer).
import { fmt, maxDiff, negativeWinner, projectRow, tokenArithmetic } from '../lib/arithmetic.js';
import { headColor } from '../lib/colors.js';
import { displayToken } from '../lib/data.js';
import { h, select } from '../dom.js';
import type { Inspection } from '../model/run.js';

export class ArithmeticView {
  readonly root = h('div.arithmetic');
  private data: Inspection | null = null;
  private layer = 0;
  private head = 0;
  private token = -1;
  /** The reader chose a layer or head: a coref model's head no longer picks them. */
  private picked = false;
  private readonly onLayer: (layer: number) => void;

  constructor({ onLayer = () => {} }: { onLayer?: (layer: number) => void } = {}) {
    this.onLayer = onLayer;
  }

  set(data: Inspection): void {
    this.data = data;
    const T = data.q.find((l) => l.length > 0)![0].length; // the first window
    if (this.token < 0 || this.token >= T) this.token = data.pronoun ?? Math.min(T - 1, data.tokens.findIndex((t, i) => t === 'i' && data.tokens[i + 1] === 't') + 1 || T - 1);
    if (data.corefHead && !this.picked) [this.layer, this.head] = data.corefHead; // a coref model: start at the head that answers
    if (data.layer !== undefined) this.layer = data.layer; // the one layer read
    if (this.layer >= data.q.length) this.layer = 0;
    if (this.head >= data.q[this.layer].length) this.head = 0;
    this.render();
  }

  /** Show this token's row at this layer and head (the formula's "every number" link). */
  focusOn(token: number, layer: number, head: number): void {
    this.token = token;
    this.head = head;
    this.picked = true;
    if (this.data && this.data.layer !== undefined && layer !== this.data.layer) { this.onLayer(layer); return; }
    this.layer = layer;
    if (this.data) this.render();
  }

  /** The text cannot be read: no numbers for a text the model did not read. */
  unreadable(reason: string): void {
    this.data = null;
    this.root.replaceChildren(h('p.note', {}, `No numbers: the model cannot read this text (${reason}).`));
  }

  private pickLayer(layer: number): void {
    this.picked = true;
    if (this.data!.layer !== undefined && layer !== this.data!.layer) {
      this.onLayer(layer);
      return;
    }
    this.layer = layer;
    this.render();
  }

  private render(): void {
    const data = this.data!;
    const L = data.q.length, H = data.q[this.layer].length, T = data.q[this.layer][0].length;
    const q = data.q[this.layer][this.head], k = data.k[this.layer][this.head], v = data.v[this.layer][this.head];
    const causal = data.causal ?? true;
    const window = data.window ?? null;
    const r = tokenArithmetic(q[this.token], k.slice(0, T), v.slice(0, T), { query: this.token, causal, window });
    const model = data.attention[this.layer][this.head][this.token];
    const maxErr = Math.max(...r.weights.map((w, j) => Math.abs(w - model[j])));
    const tokens = data.tokens.slice(0, T);
    const chips = h('div.chips', {}, ...tokens.map((t, i) => h('button.chip', {
      type: 'button', 'aria-pressed': String(i === this.token), onclick: () => { this.token = i; this.render(); },
    }, displayToken(t))));
    const vec = (xs: number[]) => h('span.vec', {}, `[${xs.slice(0, 8).map((x) => fmt(x)).join(', ')}${xs.length > 8 ? ', …' : ''}]`);
    const maxW = Math.max(...r.weights);
    const rows = tokens.map((t, j) => h('tr', { class: r.scaled[j] === -Infinity ? 'masked' : '' },
      h('td.tok', {}, displayToken(t)),
      h('td', {}, vec(k[j])),
      h('td.num', {}, fmt(r.scores[j])),
      h('td.num', {}, fmt(r.scaled[j])),
      h('td.num', {}, fmt(r.weights[j], 3)),
      h('td.bar', {}, h('span', { style: `width:${(100 * r.weights[j]) / (maxW || 1)}%;background:${headColor(this.head)}` })),
      h('td', {}, vec(v[j]))));
    this.root.replaceChildren(
      h('div.controls', {},
        h('label', {}, 'Layer ', select(Array.from({ length: L }, (_, l) => [String(l), String(l)]), String(this.layer), (x) => this.pickLayer(Number(x)))),
        h('label', {}, 'Head ', select(Array.from({ length: H }, (_, i) => [String(i), String(i)]), String(this.head), (x) => { this.head = Number(x); this.picked = true; this.render(); }))),
      h('p', {}, 'Pick the query token:'), chips,
      this.projectionSteps(r.dk),
      h('ol.steps', {},
        h('li', {}, h('b', {}, `q of "${displayToken(tokens[this.token])}"`), ` (d_k = ${r.dk}): `, vec(q[this.token])),
        h('li', {}, h('b', {}, 'scores = q · kⱼ'), ' for every key j, then ', h('b', {}, `÷ √d_k = ÷ ${fmt(Math.sqrt(r.dk))}`), causal ? '; keys after the query are masked to −∞ (causal).' : '; every key is visible, before and after the query (an encoder).',
          window !== null ? ` Keys ${window} or more places back are masked too (a sliding window of ${window}: Mistral's).` : ''),
        h('li', {}, h('b', {}, 'softmax'), ' turns the scaled scores into weights that sum to 1. ',
          h('span#arith-check', { dataset: { maxErr: String(maxErr) } }, `They match the model's own attention row to ${maxErr.toExponential(1)}.`)),
        h('li', {}, h('b', {}, 'output = Σ wⱼ vⱼ'), ': ', vec(r.output))),
      negativeWinner(r.scaled, r.weights, tokens, r.scores) ? h('p#arith-negative.note', {}, negativeWinner(r.scaled, r.weights, tokens, r.scores)!) : '',
      h('div.scroll', {}, h('table.arith', {},
        h('thead', {}, h('tr', {}, ...['key', 'k', 'q·k', '÷√d_k', 'softmax', '', 'v'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...rows))),
      this.concatStep(),
    );
  }

  /**
   * Where q, k and v come from: x (the layer's input after ln_1) times the
   * head's columns of W_Q, W_K and W_V, plus their biases, with the model's
   * numbers, checked against the q, k, v the model returned. Only where the
   * projections were read (c_attn small enough: the built-in models, not GPT-2).
   */
  private projectionSteps(dk: number): HTMLElement | string {
    const P = this.data!.projections?.[this.layer];
    if (!P) return '';
    const data = this.data!;
    const C = P.x[0].length, t = this.token, hd = this.head;
    const x = P.x[t];
    const vec = (xs: number[]) => `[${xs.slice(0, 6).map((z) => fmt(z)).join(', ')}${xs.length > 6 ? ', …' : ''}]`;
    const part = (name: string, offset: number, own: number[]) => {
      const cols: [number, number] = [offset + hd * dk, offset + (hd + 1) * dk];
      const mine = projectRow(x, P.wqkv, P.bqkv, ...cols);
      const first = x.reduce((s, xc, c) => s + xc * P.wqkv[c][cols[0]], 0);
      return h('li', { dataset: { maxErr: String(maxDiff(mine, own)) } },
        h('b', {}, `${name.toLowerCase()} = x · W_${name} + b_${name}`), ` (W_${name} of head ${hd}: ${C} × ${dk}, columns ${cols[0]}–${cols[1] - 1} of c_attn): `,
        h('span.vec', {}, vec(mine)),
        `. Its first entry is Σ_c x_c · W_${name}[c][0] = ${fmt(first, 3)}${P.bqkv ? ` + b ${fmt(P.bqkv[cols[0]], 3)} = ${fmt(mine[0], 3)}` : ''}; the model's own ${name.toLowerCase()} matches to ${maxDiff(mine, own).toExponential(1)}.`);
    };
    return h('div#arith-projections', {},
      h('p', {}, h('b', {}, 'From the word to q, k and v. '), `x is “${displayToken(data.tokens[t])}” as layer ${this.layer} receives it (its ${C} numbers after the layer norm): `, h('span.vec', {}, vec(x))),
      h('ol.steps', {},
        part('Q', 0, data.q[this.layer][hd][t]),
        part('K', C, data.k[this.layer][hd][t]),
        part('V', 2 * C, data.v[this.layer][hd][t])));
  }

  /** After the heads: Concat(head_1 … head_h) · W_O + b, the attention's output for the token, checked against the model's. */
  private concatStep(): HTMLElement | string {
    const P = this.data!.projections?.[this.layer];
    if (!P) return '';
    const data = this.data!;
    const t = this.token, H = data.q[this.layer].length;
    const heads = Array.from({ length: H }, (_, hd) => tokenArithmetic(data.q[this.layer][hd][t], data.k[this.layer][hd], data.v[this.layer][hd], { query: t, causal: data.causal ?? true, window: data.window ?? null }).output);
    const concat = heads.flat();
    const out = projectRow(concat, P.wo, P.bo);
    const err = maxDiff(out, P.out[t]);
    const vec = (xs: number[]) => `[${xs.slice(0, 6).map((z) => fmt(z)).join(', ')}${xs.length > 6 ? ', …' : ''}]`;
    return h('div#arith-concat', { dataset: { maxErr: String(err) } },
      h('p', {}, h('b', {}, 'All heads together: MultiHead = Concat(head_0 … head_' + (H - 1) + ') · W_O + b_O.')),
      h('ol.steps', {},
        ...heads.map((o, hd) => h('li', {}, `head ${hd}'s Σ wⱼ vⱼ for “${displayToken(data.tokens[t])}”: `, h('span.vec', {}, vec(o)))),
        h('li', {}, `concatenated: ${concat.length} numbers; times W_O (${P.wo.length} × ${P.wo[0].length}, c_proj) plus b_O: `, h('span.vec', {}, vec(out)),
          `. The model's own attention output matches to ${err.toExponential(1)}; it is added to x (the residual) and goes on to the feed-forward layer.`)));
  }
}
