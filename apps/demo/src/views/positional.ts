// View 3, positional encoding: the sinusoidal table as a heatmap and a few
// of its dimensions as waves; the current model's learned position
// embeddings (wpe) and how similar positions are to each other; rotary's
// rotation angles and why q·k then depends only on the offset.
import { rotaryAngle, rotateVector as rotate, sinusoidalTable } from '@tx/positional';
import { signedColour, heatmapPixels } from '../lib/heatmap.js';
import { absMax, dot } from '../lib/positional.js';
import { h, sizeCanvas } from '../dom.js';

function heat(canvas: HTMLCanvasElement, m: number[][], width: number, height: number, scale = absMax(m)): void {
  const ctx = sizeCanvas(canvas, width, height);
  const off = document.createElement('canvas');
  off.width = m[0].length; off.height = m.length;
  off.getContext('2d')!.putImageData(new ImageData(heatmapPixels(m, signedColour(scale)), m[0].length, m.length), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, width, height);
}

function plot(canvas: HTMLCanvasElement, series: Array<{ ys: number[]; colour: string; label: string }>, width: number, height: number): void {
  const ctx = sizeCanvas(canvas, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = series.flatMap((s) => s.ys);
  const lo = Math.min(...all), hi = Math.max(...all);
  const n = Math.max(...series.map((s) => s.ys.length));
  ctx.strokeStyle = '#ccd'; ctx.beginPath(); ctx.moveTo(0, height / 2); ctx.lineTo(width, height / 2); ctx.stroke();
  series.forEach((s, i) => {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.5; ctx.beginPath();
    s.ys.forEach((y, x) => {
      const px = (x / (n - 1)) * (width - 10) + 5, py = height - 5 - ((y - lo) / (hi - lo || 1)) * (height - 10);
      if (x === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.fillStyle = s.colour; ctx.font = '11px system-ui'; ctx.fillText(s.label, 8 + i * 70, 12);
  });
}

export class PositionalView {
  readonly root = h('div.positional');

  /** wpe: the model's learned position embeddings [blockSize][nEmbd], or null. */
  set(wpe: number[][] | null, dModel = 64, positions = 64): void {
    const table = sinusoidalTable(positions, dModel);
    const pe = Array.from({ length: positions }, (_, p) => Array.from(table.subarray(p * dModel, (p + 1) * dModel)));
    const sinus = h('canvas#pe-sinusoidal');
    const waves = h('canvas#pe-waves');
    const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
    const dims = [0, 2, 8, 16, 32].filter((d) => d < dModel);
    const learned = h('canvas#pe-learned');
    const learnedSim = h('canvas#pe-learned-sim');
    const rotary = h('canvas#pe-rotary');
    const rotaryDot = h('canvas#pe-rotary-dot');
    this.root.replaceChildren(
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
    heat(sinus, pe, 360, 360, 1);
    plot(waves, dims.map((d, i) => ({ ys: pe.map((row) => row[d]), colour: colours[i], label: `dim ${d}` })), 360, 200);
    if (wpe) {
      heat(learned, wpe, 360, 360);
      const norm = wpe.map((r) => Math.sqrt(dot(r, r)) || 1);
      const sim = wpe.map((a, i) => wpe.map((b, j) => dot(a, b) / (norm[i] * norm[j])));
      heat(learnedSim, sim, 360, 360, 1);
    }
    const angles = Array.from({ length: positions }, (_, p) => Array.from({ length: dModel / 2 }, (_, i) => Math.cos(rotaryAngle(p, i, dModel))));
    heat(rotary, angles, 360, 360, 1);
    const q = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)), k = Array.from({ length: 16 }, (_, i) => Math.cos(2 * i));
    plot(rotaryDot, [10, 30, 50].map((m, i) => ({
      ys: Array.from({ length: 11 }, (_, off) => dot(rotate(q, m), rotate(k, m - off))),
      colour: colours[i], label: `m = ${m}`,
    })), 360, 200);
  }
}
