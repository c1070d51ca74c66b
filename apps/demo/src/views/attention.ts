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
import { digitColor, headColor } from '../lib/colors.js';
import { shape, weightsHeld, type InspectData } from '../lib/data.js';
import { thumbnailsOf, type Thumbnails } from '../lib/downsample.js';
import { hitCell, type GridLayout } from '../lib/grid.js';
import { hitTest } from '../lib/layout.js';
import { attentionLines, defaultLineOptions, toggleHead, type Line } from '../lib/lines.js';
import { brightestOther, defaultLayout, hitWord } from '../lib/sentence.js';
import { h, select } from '../dom.js';
import { drawGrid, drawLines, drawMatrix, type LinesDrawing } from './attention-canvas.js';
import { drawSentence, type SentenceDrawing } from './sentence-canvas.js';

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
  constructor({ onLayer = () => {} }: { onLayer?: (layer: number) => void } = {}) {
    this.onLayer = onLayer;
    this.columnsFigure = h('figure', {}, h('figcaption', {}, 'Head view: each line is a query (left) looking at a key (right). Hover a token to see only its lines.'), this.canvas);
    this.sentenceFigure = h('figure.sentence', {}, h('figcaption#sentence-caption', {}, 'The selected word shines on the words it attends to. Hover a word to see its light; click to keep it.'), h('div.sentence-row', {}, this.sentence, this.answer));
    this.root = h('div.attention', {},
      this.controls,
      this.info,
      this.sentenceFigure,
      h('div.attention-panels', {},
        this.columnsFigure,
        h('figure', {}, h('figcaption#matrix-caption', {}, 'One head as a matrix'), this.matrix)),
      h('figure', {}, h('figcaption', {}, 'All layers × heads: click one to select it'), this.grid));
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.focus = null; this.schedule(); });
    this.sentence.addEventListener('mousemove', (e) => this.hoverWord(e));
    this.sentence.addEventListener('mouseleave', () => { if (this.hovered !== null) { this.hovered = null; this.schedule(); } });
    this.sentence.addEventListener('click', (e) => {
      const word = this.wordAt(e);
      if (word === null) return;
      this.selected = word;
      this.picked = true;
      this.schedule();
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
    this.renderControls();
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
    const swatches = Array.from({ length: heads }, (_, hd) => h('button.swatch', {
      type: 'button', title: `head ${hd}: click to toggle`, 'aria-pressed': String(this.heads.includes(hd)),
      dataset: { head: String(hd) },
      class: data.corefHead && data.corefHead[1] === hd && data.corefHead[0] === this.layer ? 'coref' : '',
      style: `--c:${headColor(hd)};--fg:${digitColor(headColor(hd))}`,
      onclick: () => { this.heads = toggleHead(this.heads, hd); this.matrixHead = hd; this.renderControls(); this.draw(); this.drawSide(); },
    }, String(hd)));
    const layoutButton = (name: LayoutName, label: string) => h('button', {
      type: 'button', id: `layout-${name}`, 'aria-pressed': String(this.layoutName() === name),
      onclick: () => { this.layoutChoice = name; this.renderControls(); this.draw(); },
    }, label);
    this.controls.replaceChildren(
      h('label', {}, 'Layer ', layerSelect),
      h('span.swatches', {}, 'Heads ', ...swatches),
      h('span.layouts', {}, 'Picture ', layoutButton('sentence', 'words in a sentence'), layoutButton('columns', 'two columns')));
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
    return Math.max(320, Math.min(560, (this.root.parentElement?.clientWidth ?? 900) * 0.5 - 24));
  }

  draw(): void {
    const data = this.data;
    if (!data) return;
    const sentence = this.layoutName() === 'sentence';
    this.sentenceFigure.hidden = !sentence;
    this.columnsFigure.hidden = sentence;
    if (sentence) {
      const width = Math.max(360, Math.min(820, (this.root.parentElement?.clientWidth ?? 900) - 320));
      const shining = this.hovered ?? this.selected;
      this.sentenceDrawing = drawSentence(this.sentence, data.attention, data.tokens, { layer: this.layer, heads: this.heads, selected: shining, width, marked: shining === data.pronoun ? data.referent?.index ?? null : null });
      this.renderAnswer();
    } else {
      const opts = { layer: this.layer, heads: this.heads, ...defaultLineOptions(data.tokens.length) };
      const key = `${this.layer}|${this.heads.join(',')}`;
      let lines: Line[] | undefined;
      if (!this.focus) {
        if (this.lineCache?.key !== key) this.lineCache = { key, lines: attentionLines(data.attention, opts) };
        lines = this.lineCache.lines;
      }
      this.drawing = drawLines(this.canvas, data.attention, data.tokens, { ...opts, focus: this.focus, width: this.width(), lines });
    }
  }

  /** "it = the animal, 99%", and the coref head's row from the pronoun, for readers and tests. */
  private renderAnswer(): void {
    const data = this.data!;
    const el = this.answer;
    if (data.pronoun === undefined || !data.referent || !data.corefHead) {
      el.replaceChildren(h('p.note', {}, data.corefHead ? `No pronoun in the text: the coref model answers what "it" refers to.` : `Hover a token to see its light, click it to keep it.`));
      for (const key of ['tokens', 'referent', 'p', 'brightest', 'corefRow']) delete el.dataset[key];
      return;
    }
    const [layer, head] = data.corefHead;
    const row = data.attention[layer][head][data.pronoun];
    const brightest = brightestOther(row, data.pronoun);
    el.dataset.tokens = JSON.stringify(data.tokens);
    el.dataset.referent = data.referent.token;
    el.dataset.p = String(data.referent.p);
    el.dataset.brightest = data.tokens[brightest];
    el.dataset.corefRow = JSON.stringify(Array.from(row, (w) => Math.round(w * 1e4) / 1e4));
    el.replaceChildren(
      h('p.big', {}, `${data.tokens[data.pronoun]} = the ${data.referent.token}, ${Math.round(100 * data.referent.p)}%`),
      h('p.note', {}, 'The coref head is ', h('span.swatch-inline', { style: `--c:${headColor(head)}` }, `layer ${layer}, head ${head}`),
        `: its light from “${data.tokens[data.pronoun]}” is the answer. Change the last word (tired → wide) to move it.`));
  }

  private drawSide(): void {
    const data = this.data!;
    const head = this.matrixHead;
    document.getElementById('matrix-caption')!.textContent = `Layer ${this.layer}, head ${head} as a matrix (rows: queries, columns: keys)`;
    drawMatrix(this.matrix, data.attention[this.layer][head], Math.min(480, this.width()), { rowLabels: data.tokens, colLabels: data.tokens });
    this.gridLayout = drawGrid(this.grid, this.thumbnails(data), { layer: this.layer, head }, Math.min(900, (this.root.parentElement?.clientWidth ?? 900) - 16));
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
