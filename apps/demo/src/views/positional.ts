// View 3, positional encoding: the sinusoidal table as a heatmap and a few
// of its dimensions as waves; the current model's learned position
// embeddings (wpe) and how similar positions are to each other; rotary's
// rotation angles and why q·k then depends only on the offset.
import { rotaryAngle, rotateVector as rotate, sinusoidalTable } from '@tx/positional';
import { signedColour, heatmapPixels } from '../lib/heatmap.js';
import { absMax, dot } from '../lib/positional.js';
import { h, sizeCanvas } from '../dom.js';
import { HEAD_COLORS } from '../lib/colors.js';

/** Room around a picture for its axes: left for the row ticks, bottom for the column ticks and the axis titles. */
const M = { left: 34, bottom: 30, top: 4, right: 6 };

function axes(ctx: CanvasRenderingContext2D, width: number, height: number, x: { label: string; ticks: Array<[number, string]> }, y: { label: string; ticks: Array<[number, string]> }): void {
  ctx.fillStyle = '#334'; ctx.strokeStyle = '#667'; ctx.font = '10px system-ui'; ctx.lineWidth = 1;
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  for (const [at, text] of x.ticks) { ctx.beginPath(); ctx.moveTo(at, height - M.bottom); ctx.lineTo(at, height - M.bottom + 3); ctx.stroke(); ctx.fillText(text, at, height - M.bottom + 4); }
  ctx.fillText(x.label, M.left + (width - M.left - M.right) / 2, height - 12);
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (const [at, text] of y.ticks) { ctx.beginPath(); ctx.moveTo(M.left - 3, at); ctx.lineTo(M.left, at); ctx.stroke(); ctx.fillText(text, M.left - 4, at); }
  ctx.save(); ctx.translate(9, M.top + (height - M.top - M.bottom) / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText(y.label, 0, 0); ctx.restore();
}

/** A signed heatmap with its axes: rows and columns labelled at the first, middle and last index. */
function heat(canvas: HTMLCanvasElement, m: number[][], width: number, height: number, labels: { x: string; y: string }, scale = absMax(m)): void {
  const ctx = sizeCanvas(canvas, width, height);
  const off = document.createElement('canvas');
  off.width = m[0].length; off.height = m.length;
  off.getContext('2d')!.putImageData(new ImageData(heatmapPixels(m, signedColour(scale)), m[0].length, m.length), 0, 0);
  ctx.imageSmoothingEnabled = false;
  const [w, hgt] = [width - M.left - M.right, height - M.top - M.bottom];
  ctx.drawImage(off, M.left, M.top, w, hgt);
  const ticks = (n: number, from: number, size: number): Array<[number, string]> => [0, Math.floor((n - 1) / 2), n - 1].map((i) => [from + ((i + 0.5) / n) * size, String(i)]);
  axes(ctx, width, height, { label: labels.x, ticks: ticks(m[0].length, M.left, w) }, { label: labels.y, ticks: ticks(m.length, M.top, hgt) });
}

/** Lines over x = 0..n-1 with axes, and the legend in its own strip above the plot (it never covers a line). */
function plot(canvas: HTMLCanvasElement, series: Array<{ ys: number[]; colour: string; label: string }>, width: number, height: number, labels: { x: string; y: string }): void {
  const ctx = sizeCanvas(canvas, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const legend = 18;
  const all = series.flatMap((s) => s.ys);
  const lo = Math.min(...all), hi = Math.max(...all);
  const n = Math.max(...series.map((s) => s.ys.length));
  const [x0, y0, w, hgt] = [M.left, legend + M.top, width - M.left - M.right, height - legend - M.top - M.bottom];
  const px = (x: number) => x0 + (x / (n - 1)) * w;
  const py = (y: number) => y0 + hgt - ((y - lo) / (hi - lo || 1)) * hgt;
  if (lo < 0 && hi > 0) { ctx.strokeStyle = '#dde'; ctx.beginPath(); ctx.moveTo(x0, py(0)); ctx.lineTo(x0 + w, py(0)); ctx.stroke(); }
  series.forEach((s, i) => {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5; ctx.beginPath();
    s.ys.forEach((y, x) => { if (x === 0) ctx.moveTo(px(x), py(y)); else ctx.lineTo(px(x), py(y)); });
    ctx.stroke();
    const at = x0 + i * Math.floor(w / series.length);
    ctx.fillStyle = s.colour;
    ctx.fillRect(at, 6, 10, 4);
    ctx.fillStyle = '#1b2233'; ctx.font = '11px system-ui'; ctx.textBaseline = 'middle'; ctx.textAlign = 'left';
    ctx.fillText(s.label, at + 13, 8);
  });
  const f = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1));
  axes(ctx, width, height,
    { label: labels.x, ticks: [0, Math.floor((n - 1) / 2), n - 1].map((i) => [px(i), String(i)]) },
    { label: labels.y, ticks: [lo, ...(lo < 0 && hi > 0 ? [0] : []), hi].map((v) => [py(v), f(v)]) });
}

export class PositionalView {
  readonly root = h('div.positional');

  /** wpe: the model's learned position embeddings [blockSize][nEmbd], or null. */
  set(wpe: number[][] | null, dModel = 64, positions = 64): void {
    const table = sinusoidalTable(positions, dModel);
    const pe = Array.from({ length: positions }, (_, p) => Array.from(table.subarray(p * dModel, (p + 1) * dModel)));
    const sinus = h('canvas#pe-sinusoidal');
    const waves = h('canvas#pe-waves');
    const colours = HEAD_COLORS.slice(0, 3).concat(['#0072b2', '#d55e00']); // Okabe–Ito
    const dims = [0, 2, 8, 16, 32].filter((d) => d < dModel);
    const learned = h('canvas#pe-learned');
    const learnedSim = h('canvas#pe-learned-sim');
    const rotary = h('canvas#pe-rotary');
    const rotaryDot = h('canvas#pe-rotary-dot');
    this.root.replaceChildren(
      h('p#pe-formula.formula-title', {}, h('b', {}, 'PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),  PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model))'),
        ` — each position gets ${dModel} numbers, pairs of a sine and a cosine whose wavelength grows from 2π to 10000·2π along the dimensions; the vector is added to the token's embedding.`),
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, `Sinusoidal: ${positions} positions (rows) × ${dModel} dimensions (columns); red +1, blue −1`), sinus),
        h('figure', {}, h('figcaption', {}, `Dimensions ${dims.join(', ')} along the positions: each pair is a sine and cosine, slower as the dimension grows`), waves)),
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, wpe ? `Learned (this model's wpe): ${wpe.length} positions × ${wpe[0].length} dimensions` : 'Learned: load or train a model to see its wpe'), learned),
        h('figure', {}, h('figcaption', {}, 'Learned: cosine similarity between positions (neighbours end up alike)'), learnedSim)),
      h('div.panels', {},
        h('figure', {}, h('figcaption', {}, 'Rotary: cos(pos · θᵢ) for each position (rows) and pair i (columns); q and k are turned, not added to'), rotary),
        h('figure', {}, h('figcaption', {}, 'Rotary: q·k for the same q and k placed at positions (m, m − offset), for m = 10, 30, 50: the curves coincide, it depends only on the offset'), rotaryDot)),
    );
    heat(sinus, pe, 360, 360, { x: 'dimension', y: 'position' }, 1);
    plot(waves, dims.map((d, i) => ({ ys: pe.map((row) => row[d]), colour: colours[i], label: `dim ${d}` })), 360, 220, { x: 'position', y: 'PE value' });
    if (wpe) {
      heat(learned, wpe, 360, 360, { x: 'dimension', y: 'position' });
      const norm = wpe.map((r) => Math.sqrt(dot(r, r)) || 1);
      const sim = wpe.map((a, i) => wpe.map((b, j) => dot(a, b) / (norm[i] * norm[j])));
      heat(learnedSim, sim, 360, 360, { x: 'position', y: 'position' }, 1);
    }
    const angles = Array.from({ length: positions }, (_, p) => Array.from({ length: dModel / 2 }, (_, i) => Math.cos(rotaryAngle(p, i, dModel))));
    heat(rotary, angles, 360, 360, { x: 'pair i', y: 'position' }, 1);
    const q = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)), k = Array.from({ length: 16 }, (_, i) => Math.cos(2 * i));
    plot(rotaryDot, [10, 30, 50].map((m, i) => ({
      ys: Array.from({ length: 11 }, (_, off) => dot(rotate(q, m), rotate(k, m - off))),
      colour: colours[i], label: `m = ${m}`,
    })), 360, 220, { x: 'offset (positions apart)', y: 'q · k' });
  }
}
