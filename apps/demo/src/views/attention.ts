// View 1, attention as light. A sentence is drawn as the explainer draws it:
// words as nodes in reading order, the selected word (by default the
// pronoun) shining arcs of light on the others, one colour per head, colours
// adding where heads agree, and each word glowing with the light it
// receives. With a coref model, its answer ("it = the animal, 99%") stands
// beside the picture: the coref head's light from "it" is that answer. Long
// texts get bertviz's head view (two columns) that stays readable at 1,024
// tokens (the strongest keys of each query only); a matrix per head and the
// grid of layers x heads, both pooled images, are the overview.
//
// A GPT's inspection holds one layer's weights (InspectData.layer): picking
// another layer asks the page to read that layer (onLayer), and the picture
// follows when it arrives.
import { fmt, negativeWinner, tokenArithmetic } from '../lib/arithmetic.js';
import { digitColor, headColor } from '../lib/colors.js';
import { displayToken, shape, weightsHeld, type InspectData } from '../lib/data.js';
import { thumbnailsOf, type Thumbnails } from '../lib/downsample.js';
import { describeKvGroups, hitCell, type GridLayout } from '../lib/grid.js';
import { hitTest } from '../lib/layout.js';
import { attentionLines, defaultLineOptions, toggleHead, type Line } from '../lib/lines.js';
import { isNearUniform, liveText, nearUniformHeads } from '../lib/honesty.js';
import { brightestOther, defaultLayout, hitWord } from '../lib/sentence.js';
import { twoLayerStory, type StoryStep } from '../lib/story.js';
import { h, select } from '../dom.js';
import { drawGrid, drawLines, drawMatrix, type LinesDrawing } from './attention-canvas.js';
import { drawSentence, type SentenceDrawing } from './sentence-canvas.js';
import type { Inspection } from '../model/run.js';

type LayoutName = 'sentence' | 'columns';

export class AttentionView {
  readonly root: HTMLElement;
  private data: InspectData | null = null;
  private layer = 0;
  private heads: number[] = [];
  private matrixHead = 0;
  private focus: { token: number; side: 'left' | 'right' } | null = null;
  private drawing: LinesDrawing | null = null;
  private sentenceDrawing: SentenceDrawing | null = null;
  /** The picture the reader chose, or null for the default (sentence for short inputs). */
  private layoutChoice: LayoutName | null = null;
  /** The word that shines in the sentence picture, and whether the reader picked it. */
  private selected = 0;
  private picked = false;
  private hovered: number | null = null;
  private readonly canvas = h('canvas#attention-lines', { role: 'img', 'aria-label': 'attention lines' });
  private readonly sentence = h('canvas#attention-sentence', { role: 'img', 'aria-label': 'attention as light between the words of the sentence' });
  private readonly columnsFigure: HTMLElement;
  private readonly sentenceFigure: HTMLElement;
  private readonly answer = h('div#coref-answer.answer');
  /** The words as buttons, mirroring the canvas: focus or hover one to see its light, press it to keep it. */
  private readonly words = h('div#attention-words.words', { role: 'group', 'aria-label': 'the words: pick one to see its light' });
  /** The picture in words, for screen readers and everyone: "it: animal 100%, street 0%". */
  private readonly live = h('p#attention-live.alt', { 'aria-live': 'polite' });
  /** The two-layer story, one step a layer. */
  private readonly stepper = h('div#stepper.stepper');
  private story: StoryStep[] = [];
  private stage: number | null = null;
  /** The formula beside the picture, for the shining word and the shown head. */
  private readonly formula = h('div#formula.formula');
  private readonly why = h('p#pointer-why.note');
  private readonly onArithmetic: (token: number, layer: number, head: number) => void;
  private readonly matrix = h('canvas#attention-matrix');
  private readonly grid = h('canvas#attention-grid', { role: 'img', 'aria-label': 'every layer and head: click one to select it' });
  private gridLayout: GridLayout | null = null;
  /** Thumbnails of data that came without them (JSON, the encoder), made once. */
  private thumbs: { data: InspectData; thumbs: Thumbnails } | null = null;
  /** Every line of the layer and heads shown, kept while nothing is hovered (a redraw then costs no search). */
  private lineCache: { key: string; lines: Line[] } | null = null;
  private readonly controls = h('div.controls');
  private readonly info = h('p.info');
  private raf = 0;
  private readonly onLayer: (layer: number) => void;

  /** `onLayer`: read this layer (a GPT's inspection holds one); the page calls set() with it. */
  constructor({ onLayer = () => {}, onArithmetic = () => {} }: { onLayer?: (layer: number) => void; onArithmetic?: (token: number, layer: number, head: number) => void } = {}) {
    this.onLayer = onLayer;
    this.onArithmetic = onArithmetic;
    this.columnsFigure = h('figure', {}, h('figcaption', {}, 'Head view: each line is a query (left) looking at a key (right). Hover a token to see only its lines. Heads that spread their weight evenly for most queries (near-uniform) are drawn at a quarter of their light.'), this.canvas);
    this.sentenceFigure = h('figure.sentence', {}, h('figcaption#sentence-caption', {}, 'The selected word shines on the words it attends to. Hover or focus a word to see its light; click or press it to keep it.'),
      h('div.sentence-row', {}, h('div.scroll', {}, this.sentence), this.answer), this.formula);
    this.root = h('div.attention', {},
      this.stepper,
      this.controls,
      this.info,
      this.words, this.live,
      this.sentenceFigure,
      h('div.attention-panels', {},
        h('div.scroll', {}, this.columnsFigure),
        h('figure', {}, h('figcaption#matrix-caption', {}, 'One head as a matrix'), h('div.scroll', {}, this.matrix), this.why)),
      h('figure', {}, h('figcaption', {}, 'All layers × heads: click one to select it'), h('div.scroll', {}, this.grid)));
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.focus = null; this.schedule(); });
    this.sentence.addEventListener('mousemove', (e) => this.hoverWord(e));
    this.sentence.addEventListener('mouseleave', () => { if (this.hovered !== null) { this.hovered = null; this.schedule(); } });
    this.sentence.addEventListener('click', (e) => {
      const word = this.wordAt(e);
      if (word !== null) this.select(word);
    });
    this.grid.addEventListener('click', (e) => {
      if (!this.gridLayout) return;
      const rect = this.grid.getBoundingClientRect();
      const cell = hitCell(this.gridLayout, e.clientX - rect.left, e.clientY - rect.top);
      if (!cell) return;
      this.matrixHead = cell.head;
      this.heads = [cell.head];
      this.pickLayer(cell.layer);
    });
  }

  /** Show `layer`: at once if its weights are here, else once the page has read them. */
  private pickLayer(layer: number): void {
    const data = this.data!;
    if (data.layer !== undefined && data.layer !== layer) {
      this.info.textContent = `Reading layer ${layer}…`;
      this.root.dataset.reading = String(layer);
      this.onLayer(layer);
      return;
    }
    this.layer = layer;
    this.renderControls();
    this.draw();
    this.drawSide();
  }

  /** Show an inspection. `model` changes: start from that model's coref head (or layer 0, all heads). */
  set(data: InspectData, { newModel = false }: { newModel?: boolean } = {}): void {
    const { layers, heads } = shape(data.attention);
    const previous = this.data;
    this.data = data;
    if (newModel || !previous) {
      this.layer = data.corefHead?.[0] ?? 0;
      this.heads = Array.from({ length: heads }, (_, i) => i);
      this.matrixHead = data.corefHead?.[1] ?? 0;
      this.picked = false;
    }
    if (data.layer !== undefined) this.layer = data.layer; // the one layer read
    delete this.root.dataset.reading;
    delete this.root.dataset.stale;
    this.lineCache = null;
    if (this.layer >= layers) this.layer = layers - 1;
    if (this.heads.length === 0 || this.heads.some((hd) => hd >= heads)) this.heads = Array.from({ length: heads }, (_, i) => i);
    if (this.matrixHead >= heads) this.matrixHead = 0;
    // A word the reader picked stays selected while it is the same word; otherwise the pronoun shines.
    const keep = this.picked && previous && previous.tokens[this.selected] !== undefined && previous.tokens[this.selected] === data.tokens[this.selected];
    if (!keep) {
      this.picked = false;
      this.selected = defaultSelection(data);
    }
    this.focus = null;
    this.hovered = null;
    this.story = data.corefHead && data.pronoun !== undefined && data.attention.length > data.corefHead[0] ? twoLayerStory(data.attention, data.tokens, data.pronoun, data.corefHead, data.unknownAt) : [];
    if (!this.story.length || newModel || !previous) this.stage = null;
    if (this.stage !== null) Object.assign(this, { layer: this.story[this.stage].layer, heads: [...this.story[this.stage].heads] });
    this.renderWords();
    this.renderControls();
    this.draw();
    this.drawSide();
  }

  /**
   * The text cannot be read (too long, no words): grey the picture and clear
   * the answer, so that nothing on the page answers for a text it did not read.
   */
  unreadable(reason: string): void {
    this.root.dataset.stale = 'true';
    for (const key of ['tokens', 'referent', 'p', 'brightest', 'corefRow']) delete this.answer.dataset[key];
    this.answer.replaceChildren(h('p.big', {}, 'No answer'), h('p.note', {}, `The model cannot read this text: ${reason}. Nothing here answers for it: the picture, greyed out, was of the previous text.`));
    this.words.replaceChildren();
    this.formula.replaceChildren();
    this.live.textContent = `No answer: ${reason}.`;
  }

  /** Keep the keyboard focus on the same control across a re-render (controls are rebuilt). */
  private keepFocus(render: () => void): void {
    const key = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    render();
    if (key) this.root.querySelector<HTMLElement>(`[data-focus-key="${key}"]`)?.focus();
  }

  private select(word: number): void {
    this.selected = word;
    this.picked = true;
    for (const b of this.words.querySelectorAll<HTMLButtonElement>('button')) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === word));
    this.keepFocus(() => this.renderControls());
    this.schedule();
  }

  /** The word buttons: the canvas's words, reachable by keyboard, unknown words badged. */
  private renderWords(): void {
    const data = this.data!;
    // In the sentence, a focused word shines; in the two columns, its lines (as a query) are the only ones drawn.
    const show = (i: number | null) => {
      if (this.layoutName() === 'columns') { this.focus = i === null ? null : { token: i, side: 'left' }; this.schedule(); return; }
      if (this.hovered !== i) { this.hovered = i; this.schedule(); }
    };
    // Past 64 tokens a row of buttons is no help: the columns' hover names each token instead.
    if (data.tokens.length > 64) { this.words.replaceChildren(); return; }
    this.words.replaceChildren(...data.tokens.map((t, i) => {
      const unknown = data.unknownAt?.[i] === true;
      return h('button.word', {
        type: 'button', 'aria-pressed': String(i === this.selected), class: unknown ? 'unknown' : '',
        dataset: { index: String(i), focusKey: `word-${i}` },
        onclick: () => this.select(i), onfocus: () => show(i), onblur: () => show(null), onmouseenter: () => show(i), onmouseleave: () => show(null),
      }, displayToken(t), unknown ? h('span.badge', {}, 'unknown to this model') : null);
    }));
  }

  private goToStage(stage: number): void {
    const step = this.story[stage];
    this.stage = stage;
    this.layer = step.layer;
    this.heads = [...step.heads];
    this.selected = this.data!.pronoun ?? this.selected;
    this.picked = false;
    this.matrixHead = step.lit[0] ?? this.matrixHead; // the matrix and the formula show a head that tells this step
    this.keepFocus(() => this.renderControls());
    this.draw();
    this.drawSide();
  }

  private layoutName(): LayoutName {
    return this.layoutChoice ?? defaultLayout(this.data?.tokens.length ?? 0);
  }

  private renderControls(): void {
    const data = this.data!;
    const { layers, heads } = shape(data.attention);
    const layerSelect = select(Array.from({ length: layers }, (_, l) => [String(l), `layer ${l}`]), String(this.layer), (v) => this.pickLayer(Number(v)), { id: 'layer-select', 'aria-label': 'layer' });
    const rows = data.attention[this.layer];
    const uniform = rows?.length ? Array.from({ length: heads }, (_, hd) => hd).filter((hd) => rows[hd][this.selected] && isNearUniform(rows[hd][this.selected])) : [];
    const kv = (hd: number) => (data.kvHeads ? `, shares KV head ${data.kvHeads[hd]}` : ''); // grouped-query attention
    const swatches = Array.from({ length: heads }, (_, hd) => h('button.swatch', {
      type: 'button', title: `head ${hd}${kv(hd)}${uniform.includes(hd) ? ' (near-uniform: it spreads its weight evenly)' : ''}: click to toggle`, 'aria-pressed': String(this.heads.includes(hd)),
      'aria-label': `head ${hd}${kv(hd)}${uniform.includes(hd) ? ', near-uniform' : ''}`,
      dataset: { head: String(hd), focusKey: `head-${hd}`, uniform: String(uniform.includes(hd)) },
      class: data.corefHead && data.corefHead[1] === hd && data.corefHead[0] === this.layer ? 'coref' : '',
      style: `--c:${headColor(hd)};--fg:${digitColor(headColor(hd))}`,
      onclick: () => { this.heads = toggleHead(this.heads, hd); this.matrixHead = hd; this.stage = null; this.keepFocus(() => this.renderControls()); this.draw(); this.drawSide(); },
    }, uniform.includes(hd) ? `${hd}≈` : String(hd)));
    const layoutButton = (name: LayoutName, label: string) => h('button', {
      type: 'button', id: `layout-${name}`, 'aria-pressed': String(this.layoutName() === name), dataset: { focusKey: `layout-${name}` },
      onclick: () => { this.layoutChoice = name; this.keepFocus(() => this.renderControls()); this.draw(); },
    }, label);
    this.controls.replaceChildren(
      h('label', {}, 'Layer ', layerSelect),
      h('span.swatches', {}, 'Heads ', ...swatches),
      h('span.layouts', {}, 'Picture ', layoutButton('sentence', 'words in a sentence'), layoutButton('columns', 'two columns')),
      uniform.length ? h('span#uniform-note.uniform-note', {}, `≈ near-uniform: head${uniform.length > 1 ? 's' : ''} ${uniform.join(', ')} spread${uniform.length > 1 ? '' : 's'} ${uniform.length > 1 ? 'their' : 'its'} weight almost evenly from “${displayToken(data.tokens[this.selected] ?? '')}” (dimmed in the picture)`) : '');
    this.renderStepper();
    const opts = defaultLineOptions(data.tokens.length);
    const dropped = data.dropped ?? 0;
    this.info.textContent = `${data.tokens.length} tokens, ${layers} layers × ${heads} heads` +
      (data.loss !== undefined ? `, loss ${data.loss.toFixed(3)}` : '') +
      (this.layoutName() === 'columns' && opts.topK < data.tokens.length ? `. Long input: the ${opts.topK} strongest keys per token above ${opts.threshold} are drawn.` : '.') +
      (dropped > 0 ? ` The text is ${dropped + data.tokens.length} tokens: the last ${data.tokens.length} are read.` : '');
    // For tests and readers of the DOM: which layer is shown, and how many weights the page holds.
    this.root.dataset.layer = String(this.layer);
    this.root.dataset.weightsHeld = String(weightsHeld(data.attention));
  }

  /** "layer 0: it gathers tired → layer 1: the coref head points to animal", one button a step. */
  private renderStepper(): void {
    this.stepper.hidden = this.story.length === 0;
    this.root.dataset.stage = this.stage === null ? '' : String(this.stage);
    if (!this.story.length) { this.stepper.replaceChildren(); return; }
    const steps = this.story.map((step, i) => h('button.step', {
      type: 'button', 'aria-pressed': String(this.stage === i), dataset: { stage: String(i), focusKey: `step-${i}` },
      onclick: () => this.goToStage(i),
    }, `${i + 1} · ${step.text}`));
    this.stepper.replaceChildren(h('span.stepper-title', {}, 'The story, a layer a step: '), steps[0], h('span', { 'aria-hidden': 'true' }, ' → '), ...steps.slice(1),
      this.stage !== null ? h('button.step-reset', { type: 'button', dataset: { focusKey: 'step-all' }, onclick: () => { this.stage = null; this.heads = Array.from({ length: this.data!.attention[0].length }, (_, i) => i); this.keepFocus(() => this.renderControls()); this.draw(); this.drawSide(); } }, 'every head') : '');
  }

  private hover(e: MouseEvent): void {
    if (!this.drawing || !this.data) return;
    const rect = this.canvas.getBoundingClientRect();
    const hit = hitTest(this.drawing.layout, e.clientX - rect.left, e.clientY - rect.top, { left: this.data.tokens.length, right: this.data.tokens.length });
    if (hit?.token !== this.focus?.token || hit?.side !== this.focus?.side) {
      this.focus = hit;
      this.schedule();
    }
  }

  private wordAt(e: MouseEvent): number | null {
    if (!this.sentenceDrawing) return null;
    const rect = this.sentence.getBoundingClientRect();
    return hitWord(this.sentenceDrawing.layout, e.clientX - rect.left, e.clientY - rect.top);
  }

  private hoverWord(e: MouseEvent): void {
    const word = this.wordAt(e);
    if (word !== null && word !== this.hovered) {
      this.hovered = word;
      this.schedule();
    }
  }

  private schedule(): void {
    cancelAnimationFrame(this.raf);
    this.raf = requestAnimationFrame(() => this.draw());
  }

  private width(): number {
    const avail = this.root.parentElement?.clientWidth ?? 900;
    return avail < 640 ? Math.max(280, avail - 8) : Math.max(320, Math.min(560, avail * 0.5 - 24));
  }

  draw(): void {
    const data = this.data;
    if (!data) return;
    const sentence = this.layoutName() === 'sentence';
    this.sentenceFigure.hidden = !sentence;
    this.columnsFigure.hidden = sentence;
    if (sentence) {
      const avail = this.root.parentElement?.clientWidth ?? 900;
    const width = avail < 640 ? Math.max(280, avail - 8) : Math.max(360, Math.min(820, avail - 320));
      const shining = this.hovered ?? this.selected;
      const rows = data.attention[this.layer];
      const dimmed = this.heads.filter((hd) => rows?.[hd]?.[shining] && isNearUniform(rows[hd][shining]));
      this.sentenceDrawing = drawSentence(this.sentence, data.attention, data.tokens, { layer: this.layer, heads: this.heads, selected: shining, width, marked: shining === data.pronoun ? data.referent?.index ?? null : null, unknown: data.unknownAt, dimmed });
      this.sentence.dataset.dimmed = dimmed.join(',');
      if (this.root.dataset.stale) return;
      this.renderAnswer();
      this.renderFormula(shining);
    } else {
      // Near-uniform heads (most rows spread evenly) count a quarter, so their haze does not cover the heads that point somewhere.
      const dimmed = data.tokens.length <= 128 && data.attention[this.layer]?.length ? nearUniformHeads(data.attention[this.layer]).filter((hd) => this.heads.includes(hd)) : [];
      const opts = { layer: this.layer, heads: this.heads, dimmed, ...defaultLineOptions(data.tokens.length) };
      const key = `${this.layer}|${this.heads.join(',')}`;
      this.canvas.dataset.dimmed = dimmed.join(',');
      let lines: Line[] | undefined;
      if (!this.focus) {
        if (this.lineCache?.key !== key) this.lineCache = { key, lines: attentionLines(data.attention, opts) };
        lines = this.lineCache.lines;
      }
      this.drawing = drawLines(this.canvas, data.attention, data.tokens, { ...opts, focus: this.focus, width: this.width(), lines });
      if (!this.root.dataset.stale) this.live.textContent = data.verdict ? liveText(data.tokens, data.verdict) : this.focus ? `${displayToken(data.tokens[this.focus.token] ?? '')}: ${this.drawing.lines} lines` : '';
    }
  }

  /** The answer with what qualifies it ("it = the animal, 100%", within its 78 words), and the coref head's row, for readers and tests. */
  private renderAnswer(): void {
    const data = this.data!;
    const el = this.answer;
    for (const key of ['tokens', 'referent', 'p', 'brightest', 'corefRow', 'fits']) delete el.dataset[key];
    el.classList.remove('doubtful');
    if (!data.corefHead) {
      el.replaceChildren(h('p.note', {}, 'Hover or focus a token to see its light, click or press it to keep it.'));
      this.live.textContent = `${displayToken(data.tokens[this.selected] ?? '')} looks most at ${displayToken(data.tokens[brightestOther(data.attention[this.layer]?.[this.heads[0] ?? 0]?.[this.selected] ?? [], this.selected)] ?? '')}`;
      return;
    }
    const [layer, head] = data.corefHead;
    const pointerLine = h('p.note', {}, 'The coref head is ', h('span.swatch-inline', { style: `--c:${headColor(head)}` }, `layer ${layer}, head ${head}`),
      data.pronoun === undefined ? '.' : data.verdict && data.verdict.referent === null ? `: its light from “${data.tokens[data.pronoun]}” would be the answer if a noun it knows stood here.` : `: its light from “${data.tokens[data.pronoun]}” is the answer, among the nouns the model knows.`);
    if (data.pronoun !== undefined) {
      const row = data.attention[layer][head][data.pronoun];
      el.dataset.tokens = JSON.stringify(data.tokens);
      el.dataset.brightest = data.tokens[brightestOther(row, data.pronoun)];
      el.dataset.corefRow = JSON.stringify(Array.from(row, (w) => Math.round(w * 1e4) / 1e4));
    }
    if (data.referent) {
      el.dataset.referent = data.referent.token;
      el.dataset.p = String(data.referent.p);
    }
    const v = data.verdict;
    if (v) {
      el.dataset.fits = String(v.fitsGrammar);
      el.classList.toggle('doubtful', !v.fitsGrammar || v.referent === null);
      el.replaceChildren(h('p.big', {}, v.headline), ...v.notes.map((n) => h('p.note', {}, n)),
        data.note ? h('p#winograd-note.note.winograd', {}, data.note) : '', pointerLine);
      this.live.textContent = liveText(data.tokens, v);
      return;
    }
    // A `tx inspect` JSON: its answer as the file gives it.
    el.replaceChildren(data.referent && data.pronoun !== undefined ? h('p.big', {}, `${data.tokens[data.pronoun]} = the ${data.referent.token}, ${Math.round(100 * data.referent.p)}%`) : h('p.note', {}, 'No pronoun in the text: the coref model answers what “it” refers to.'), pointerLine);
    this.live.textContent = data.referent && data.pronoun !== undefined ? `${data.tokens[data.pronoun]}: ${data.referent.token} ${Math.round(100 * data.referent.p)}%` : '';
  }

  /**
   * softmax(QKᵀ/√d_k)V beside the picture, for the shining word and the head
   * shown (the only head selected, else the matrix's): q·k, the scaled score
   * and the weight of every key as small bars, from the model's own q and k.
   */
  private renderFormula(query: number): void {
    const data = this.data as Partial<Inspection> & InspectData;
    const head = this.heads.length === 1 ? this.heads[0] : this.matrixHead;
    const q = data.q?.[this.layer]?.[head], k = data.k?.[this.layer]?.[head], v = data.v?.[this.layer]?.[head];
    if (!q?.length || !k || !v || query >= q.length || data.tokens.length > 40) { this.formula.replaceChildren(); return; }
    const T = q.length;
    const r = tokenArithmetic(q[query], k.slice(0, T), v.slice(0, T), { query, causal: data.causal ?? true });
    const tokens = data.tokens.slice(0, T);
    // A score's bar is its place on its row, from the lowest score (empty) to the highest (full): what softmax compares.
    const place = (xs: number[]) => {
      const finite = xs.filter(Number.isFinite);
      const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
      return (x: number) => h('span.fbar', { class: x < 0 ? 'neg' : '', style: `width:${Number.isFinite(x) ? Math.round(4 + (44 * (x - lo)) / (hi - lo || 1)) : 0}px` });
    };
    const [scoreBar, scaledBar] = [place(r.scores), place(r.scaled)];
    const rows = tokens.map((t, j) => h('div.frow', { class: j === query ? 'self' : '' },
      h('span.ftok', {}, displayToken(t)),
      h('span.fcell', {}, scoreBar(r.scores[j]), h('span.fnum', {}, fmt(r.scores[j]))),
      h('span.fcell', {}, scaledBar(r.scaled[j]), h('span.fnum', {}, fmt(r.scaled[j]))),
      h('span.fcell', {}, h('span.fbar.weight', { style: `width:${Math.round(48 * r.weights[j])}px;background:${headColor(head)}` }), h('span.fnum', {}, `${Math.round(100 * r.weights[j])}%`))));
    const negative = negativeWinner(r.scaled, r.weights, tokens, r.scores);
    this.formula.dataset.head = String(head);
    this.formula.replaceChildren(
      h('p.formula-title', {}, h('b', {}, 'Attention(Q, K, V) = softmax(QKᵀ / √d_k) V'),
        ` — the row of “${displayToken(tokens[query])}”, layer ${this.layer}, head ${head}: d_k = ${r.dk}, so each q·k is divided by √${r.dk} = ${fmt(Math.sqrt(r.dk))}, then softmax turns the row into weights that sum to 1, and the output is Σ weight × v. A bar is a score's place on its row, lowest to highest (orange: below zero).`),
      h('div.frows', { role: 'table', 'aria-label': 'the formula for the selected word' },
        h('div.frow.fhead', { role: 'row' }, ...['key', 'q·k', '÷ √d_k', 'softmax'].map((c) => h('span', { role: 'columnheader' }, c))),
        ...rows),
      negative ? h('p#negative-note.note', {}, negative) : '',
      h('button#formula-more.link', { type: 'button', onclick: () => this.onArithmetic(query, this.layer, head) }, 'Every number, and how x becomes q, k and v (x·W_Q, x·W_K, x·W_V) → the arithmetic view'));
  }

  private drawSide(): void {
    const data = this.data!;
    const head = this.matrixHead;
    document.getElementById('matrix-caption')!.textContent = `Layer ${this.layer}, head ${head} as a matrix (rows: queries, columns: keys)`;
    const pointer = data.corefHead && data.corefHead[0] === this.layer && data.corefHead[1] === head && data.referent && data.pronoun !== undefined;
    this.why.textContent = pointer
      ? `Why does every row of the coref head look at “${data.referent!.token}”? Only the row of “${data.tokens[data.pronoun!]}” was ever trained: the pointer loss reads that row and nothing else. ` +
        `The head learned to give “${data.referent!.token}” a key that outscores the others, and a key that outscores the others does so for almost any query. ` +
        `No loss asks the other rows to look elsewhere, so the whole column is bright; only the row of “${data.tokens[data.pronoun!]}” means something.`
      : '';
    drawMatrix(this.matrix, data.attention[this.layer][head], Math.min(480, this.width()), { rowLabels: data.tokens, colLabels: data.tokens });
    this.gridLayout = drawGrid(this.grid, this.thumbnails(data), { layer: this.layer, head }, Math.min(900, (this.root.parentElement?.clientWidth ?? 900) - 16), data.kvHeads);
    // Grouped-query attention: the grid's picture says which heads share a KV head; its label says it in words.
    this.grid.setAttribute('aria-label', `every layer and head: click one to select it${data.kvHeads ? `; query heads sharing a key/value head: ${describeKvGroups(data.kvHeads)}` : ''}`);
  }

  private thumbnails(data: InspectData): Thumbnails {
    if (data.thumbnails) return data.thumbnails;
    if (this.thumbs?.data !== data) this.thumbs = { data, thumbs: thumbnailsOf(data.attention, 64) };
    return this.thumbs.thumbs;
  }
}

/** The word that shines first: the pronoun, else the "i" of a character-level "it", else the last token. */
function defaultSelection(data: InspectData): number {
  if (data.pronoun !== undefined) return data.pronoun;
  const word = data.tokens.indexOf('it');
  if (word >= 0) return word;
  const chars = data.tokens.findIndex((t, i) => t === 'i' && data.tokens[i + 1] === 't' && data.tokens[i - 1] === ' ');
  return chars >= 0 ? chars : data.tokens.length - 1;
}
