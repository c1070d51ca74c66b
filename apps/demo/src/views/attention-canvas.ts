// Drawing attention: light lines between two columns of tokens, a matrix per
// head, and a grid of every layer x head. Pure drawing over a 2-D canvas;
// which lines and how bright comes from lib/lines.ts. Matrices are images
// pooled to the pixels they get (lib/downsample.ts), so 1,024 tokens draw as
// fast as 64.
import { headColor, rgba } from '../lib/colors.js';
import { displayToken, type Attention } from '../lib/data.js';
import { downsampleMax, poolFactor, type Matrix, type Thumbnails } from '../lib/downsample.js';
import { cellOrigin, describeKvGroups, kvGroups, layoutGrid, type GridLayout } from '../lib/grid.js';
import { heatmapPixels, weightColour } from '../lib/heatmap.js';
import { layoutColumns, rowY, type Layout } from '../lib/layout.js';
import { attentionLines, type Line, type LineOptions } from '../lib/lines.js';
import { sizeCanvas } from '../dom.js';

export interface LinesDrawing {
  layout: Layout;
  lines: number;
}

/** Draw the head view into `canvas`. `keys` are the right column's tokens (cross-attention), default the same. */
export function drawLines(canvas: HTMLCanvasElement, attention: Attention, tokens: string[], opts: LineOptions & { width: number; keys?: string[]; maxHeight?: number; lines?: Line[] }): LinesDrawing {
  const keys = opts.keys ?? tokens;
  const layout = layoutColumns(tokens.length, { width: opts.width, keys: keys.length, maxHeight: opts.maxHeight });
  const ctx = sizeCanvas(canvas, layout.width, layout.height);
  ctx.fillStyle = '#0b0e17';
  ctx.fillRect(0, 0, layout.width, layout.height);
  const lines = opts.lines ?? attentionLines(attention, opts);
  ctx.globalCompositeOperation = 'lighter';
  ctx.lineWidth = Math.max(1, Math.min(2.5, layout.rowHeight / 6));
  const lx = layout.leftX + 4, rx = layout.rightX - 4;
  for (const l of lines) {
    ctx.strokeStyle = rgba(l.rgb, l.alpha);
    ctx.beginPath();
    ctx.moveTo(lx, rowY(layout, l.query));
    ctx.lineTo(rx, rowY(layout, l.key));
    ctx.stroke();
  }
  // Nodes: a key glows with the light it receives.
  const received = new Array<number>(keys.length).fill(0);
  for (const l of lines) received[l.key] += l.alpha;
  const maxReceived = Math.max(1e-9, ...received);
  const r = Math.max(1, Math.min(4, layout.rowHeight / 4));
  for (let i = 0; i < keys.length; i++) {
    ctx.fillStyle = `rgba(255,236,170,${0.15 + 0.85 * (received[i] / maxReceived)})`;
    ctx.beginPath();
    ctx.arc(rx, rowY(layout, i), r, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.fillStyle = 'rgba(200,210,230,0.6)';
  for (let i = 0; i < tokens.length; i++) {
    ctx.beginPath();
    ctx.arc(lx, rowY(layout, i), r * 0.7, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.globalCompositeOperation = 'source-over';
  const focus = opts.focus;
  const label = (text: string, x: number, y: number, align: CanvasTextAlign, lit: boolean) => {
    ctx.textAlign = align;
    ctx.fillStyle = lit ? '#ffffff' : '#aab4c8';
    ctx.fillText(text, x, y);
  };
  ctx.font = `${layout.fontSize}px ui-monospace, monospace`;
  ctx.textBaseline = 'middle';
  const maxChars = Math.max(3, Math.floor((layout.labelWidth - 12) / (layout.fontSize * 0.62)));
  const clip = (t: string) => (t.length > maxChars ? `${t.slice(0, maxChars - 1)}…` : t);
  if (layout.showLabels) {
    tokens.forEach((t, i) => label(clip(displayToken(t)), lx - 8, rowY(layout, i), 'right', focus?.side === 'left' && focus.token === i));
    keys.forEach((t, i) => label(clip(displayToken(t)), rx + 8, rowY(layout, i), 'left', focus?.side === 'right' && focus.token === i));
  } else if (focus) {
    // Rows too thin to label: name the hovered token, with its index.
    ctx.font = '12px ui-monospace, monospace';
    const list = focus.side === 'left' ? tokens : keys;
    const text = `${focus.token}: ${displayToken(list[focus.token] ?? '')}`;
    label(text, focus.side === 'left' ? lx - 8 : rx + 8, rowY(layout, focus.token), focus.side === 'left' ? 'right' : 'left', true);
  }
  canvas.dataset.lines = String(lines.length);
  return { layout, lines: lines.length };
}

/** One head's weights as a heatmap, rows = queries, columns = keys; more cells than pixels are max-pooled first. */
export function drawMatrix(canvas: HTMLCanvasElement, matrix: Matrix, size: number, opts: { rowLabels?: string[]; colLabels?: string[]; label?: string } = {}): void {
  const rows = matrix.length, cols = matrix[0]?.length ?? 0;
  const showLabels = !!opts.rowLabels && size / Math.max(rows, cols) >= 9;
  const margin = showLabels ? 56 : 0;
  const cell = (size - margin) / Math.max(rows, cols, 1);
  const width = margin + cell * cols, height = margin + cell * rows + (opts.label ? 16 : 0);
  const ctx = sizeCanvas(canvas, width, height);
  ctx.clearRect(0, 0, width, height);
  const factor = poolFactor(Math.max(rows, cols), Math.round((size - margin) * (canvas.width / width || 1)));
  const image = factor > 1 ? downsampleMax(matrix, factor) : matrix;
  drawImage(ctx, image, margin, margin, cell * factor);
  canvas.dataset.pooled = String(factor);
  if (showLabels) {
    ctx.fillStyle = '#334';
    ctx.font = `${Math.min(12, cell * 0.8)}px ui-monospace, monospace`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    opts.rowLabels!.forEach((t, i) => ctx.fillText(displayToken(t), margin - 4, margin + (i + 0.5) * cell));
    ctx.save();
    opts.colLabels?.forEach((t, j) => {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      const dpr = canvas.width / width;
      ctx.setTransform(dpr, 0, 0, dpr, margin + (j + 0.5) * cell, margin - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(displayToken(t), 0, 0);
    });
    ctx.restore();
  }
  if (opts.label) {
    ctx.fillStyle = '#334';
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(opts.label, margin, margin + cell * rows + 2);
  }
}

/** A matrix as pixels at (x, y), each value a `scale`-pixel square, unsmoothed. */
function drawImage(ctx: CanvasRenderingContext2D, m: Matrix, x: number, y: number, scale: number): void {
  const rows = m.length, cols = m[0]?.length ?? 0;
  if (!rows || !cols) return;
  const off = document.createElement('canvas');
  off.width = cols; off.height = rows;
  off.getContext('2d')!.putImageData(new ImageData(heatmapPixels(m, weightColour(1)), cols, rows), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, x, y, scale * cols, scale * rows);
}

/**
 * Small multiples on one canvas: every layer x head as its pooled thumbnail,
 * outlined in its head colour (the selected one thicker). Thumbnails are
 * pooled where the weights are (for a GPT, on the device), so the grid draws
 * no more pixels at 1,024 tokens than at 64. With grouped-query attention
 * (`kvHeads`: each query head's KV head), a row above the heads says which
 * share a KV head: "KV 0" over a bracket spanning heads 0 and 1.
 */
export function drawGrid(canvas: HTMLCanvasElement, thumbs: Thumbnails, selected: { layer: number; head: number }, width: number, kvHeads?: readonly number[]): GridLayout {
  const L = thumbs.cells.length, H = thumbs.cells[0]?.length ?? 0;
  const kv = kvHeads && kvHeads.length === H ? kvHeads : null;
  const g = layoutGrid(L, H, width, { kvRow: kv !== null });
  const ctx = sizeCanvas(canvas, g.width, g.height);
  ctx.clearRect(0, 0, g.width, g.height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const headsY = kv ? g.top - 9 : g.top / 2;
  for (let hd = 0; hd < H; hd++) {
    ctx.fillStyle = headColor(hd);
    ctx.textAlign = 'center';
    ctx.fillText(`head ${hd}`, cellOrigin(g, 0, hd).x + g.cell / 2, headsY);
  }
  if (kv) {
    for (const group of kvGroups(kv)) {
      const x0 = cellOrigin(g, 0, group.heads[0]).x, x1 = cellOrigin(g, 0, group.heads.at(-1)!).x + g.cell;
      ctx.strokeStyle = '#456';
      ctx.lineWidth = 1;
      ctx.beginPath(); // a bracket over the group: ⌐ ¬
      ctx.moveTo(x0 + 0.5, 14); ctx.lineTo(x0 + 0.5, 9.5); ctx.lineTo(x1 - 0.5, 9.5); ctx.lineTo(x1 - 0.5, 14);
      ctx.stroke();
      const label = `KV ${group.kv}`;
      const w = ctx.measureText(label).width + 8;
      ctx.fillStyle = '#fff';
      ctx.fillRect((x0 + x1) / 2 - w / 2, 2, w, 15);
      ctx.fillStyle = '#234';
      ctx.fillText(label, (x0 + x1) / 2, 9.5);
    }
    canvas.dataset.kvGroups = describeKvGroups(kv);
  } else delete canvas.dataset.kvGroups;
  // Every thumbnail into one image (the atlas), then each cell scaled from it.
  const rows = thumbs.cells[0]?.[0]?.length ?? 0, cols = thumbs.cells[0]?.[0]?.[0]?.length ?? 0;
  const atlas = document.createElement('canvas');
  atlas.width = Math.max(1, H * cols); atlas.height = Math.max(1, L * rows);
  const actx = atlas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  for (let l = 0; l < L; l++) {
    ctx.fillStyle = '#456';
    ctx.textAlign = 'left';
    ctx.fillText(`layer ${l}`, 0, cellOrigin(g, l, 0).y + g.cell / 2);
    for (let hd = 0; hd < H; hd++) {
      const { x, y } = cellOrigin(g, l, hd);
      if (rows && cols) {
        actx.putImageData(new ImageData(heatmapPixels(thumbs.cells[l][hd], weightColour(1)), cols, rows), hd * cols, l * rows);
        ctx.drawImage(atlas, hd * cols, l * rows, cols, rows, x, y, (g.cell * cols) / Math.max(rows, cols), (g.cell * rows) / Math.max(rows, cols));
      }
      const chosen = l === selected.layer && hd === selected.head;
      ctx.strokeStyle = headColor(hd);
      ctx.lineWidth = chosen ? 3 : 1;
      ctx.strokeRect(x - (chosen ? 1.5 : 0.5), y - (chosen ? 1.5 : 0.5), g.cell + (chosen ? 3 : 1), g.cell + (chosen ? 3 : 1));
    }
  }
  canvas.dataset.cells = String(L * H);
  canvas.dataset.pooled = String(thumbs.factor);
  return g;
}
