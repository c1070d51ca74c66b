// View 1, attention as light: bertviz's head view that stays readable at
// 256+ tokens, plus a matrix per head and the grid of layers x heads.
import { headColor } from '../lib/colors.js';
import { shape, type InspectData } from '../lib/data.js';
import { hitTest } from '../lib/layout.js';
import { defaultLineOptions, toggleHead } from '../lib/lines.js';
import { h, select } from '../dom.js';
import { drawGrid, drawLines, drawMatrix, type LinesDrawing } from './attention-canvas.js';

export class AttentionView {
  readonly root: HTMLElement;
  private data: InspectData | null = null;
  private layer = 0;
  private heads: number[] = [];
  private matrixHead = 0;
  private focus: { token: number; side: 'left' | 'right' } | null = null;
  private drawing: LinesDrawing | null = null;
  private readonly canvas = h('canvas#attention-lines', { role: 'img', 'aria-label': 'attention lines' });
  private readonly matrix = h('canvas#attention-matrix');
  private readonly grid = h('div#attention-grid.grid');
  private readonly controls = h('div.controls');
  private readonly info = h('p.info');
  private raf = 0;

  constructor() {
    this.root = h('div.attention', {},
      this.controls,
      this.info,
      h('div.attention-panels', {},
        h('figure', {}, h('figcaption', {}, 'Head view: each line is a query (left) looking at a key (right). Hover a token to see only its lines.'), this.canvas),
        h('figure', {}, h('figcaption#matrix-caption', {}, 'One head as a matrix'), this.matrix)),
      h('figure', {}, h('figcaption', {}, 'All layers × heads: click one to select it'), this.grid));
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.focus = null; this.schedule(); });
  }

  set(data: InspectData): void {
    const { layers, heads } = shape(data.attention);
    this.data = data;
    if (this.layer >= layers) this.layer = layers - 1;
    if (this.heads.length === 0 || this.heads.some((hd) => hd >= heads)) this.heads = Array.from({ length: heads }, (_, i) => i);
    if (this.matrixHead >= heads) this.matrixHead = 0;
    this.focus = null;
    this.renderControls();
    this.draw();
    this.drawSide();
  }

  private renderControls(): void {
    const data = this.data!;
    const { layers, heads } = shape(data.attention);
    const layerSelect = select(Array.from({ length: layers }, (_, l) => [String(l), `layer ${l}`]), String(this.layer), (v) => { this.layer = Number(v); this.draw(); this.drawSide(); }, { id: 'layer-select', 'aria-label': 'layer' });
    const swatches = Array.from({ length: heads }, (_, hd) => h('button.swatch', {
      type: 'button', title: `head ${hd}: click to toggle`, 'aria-pressed': String(this.heads.includes(hd)),
      dataset: { head: String(hd) },
      style: `--c:${headColor(hd)}`,
      onclick: () => { this.heads = toggleHead(this.heads, hd); this.matrixHead = hd; this.renderControls(); this.draw(); this.drawSide(); },
    }, String(hd)));
    this.controls.replaceChildren(h('label', {}, 'Layer ', layerSelect), h('span.swatches', {}, 'Heads ', ...swatches));
    const opts = defaultLineOptions(data.tokens.length);
    this.info.textContent = `${data.tokens.length} tokens, ${layers} layers × ${heads} heads` +
      (data.loss !== undefined ? `, loss ${data.loss.toFixed(3)}` : '') +
      (opts.topK < data.tokens.length ? `. Long input: the ${opts.topK} strongest keys per token above ${opts.threshold} are drawn.` : '.');
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

  private schedule(): void {
    cancelAnimationFrame(this.raf);
    this.raf = requestAnimationFrame(() => this.draw());
  }

  private width(): number {
    return Math.max(320, Math.min(560, (this.root.parentElement?.clientWidth ?? 900) * 0.5 - 24));
  }

  draw(): void {
    if (!this.data) return;
    const opts = defaultLineOptions(this.data.tokens.length);
    this.drawing = drawLines(this.canvas, this.data.attention, this.data.tokens, { layer: this.layer, heads: this.heads, focus: this.focus, width: this.width(), ...opts });
  }

  private drawSide(): void {
    const data = this.data!;
    const head = this.matrixHead;
    document.getElementById('matrix-caption')!.textContent = `Layer ${this.layer}, head ${head} as a matrix (rows: queries, columns: keys)`;
    drawMatrix(this.matrix, data.attention[this.layer][head], Math.min(480, this.width()), { rowLabels: data.tokens, colLabels: data.tokens });
    drawGrid(this.grid, data.attention, (l, hd) => {
      this.layer = l;
      this.matrixHead = hd;
      this.heads = [hd];
      this.renderControls();
      this.draw();
      this.drawSide();
    }, { layer: this.layer, head });
  }
}
