// Drawing the explainer's picture: words as nodes in reading order, arcs of
// light from the selected word, glows on the words that receive it. Additive
// blending ('lighter') on a dark background, so colours add where heads
// agree. Which arcs and how bright comes from lib/sentence.ts.
import { rgba } from '../lib/colors.js';
import { displayToken, type Attention } from '../lib/data.js';
import { arcBetween, layoutSentence, receivedLight, sentenceLights, type SentenceLayout } from '../lib/sentence.js';
import { sizeCanvas } from '../dom.js';

export interface SentenceDrawing {
  layout: SentenceLayout;
  arcs: number;
}

export interface SentenceOptions {
  layer: number;
  heads: readonly number[];
  /** The word that shines. */
  selected: number;
  width: number;
  /** A word to outline (the answer). */
  marked?: number | null;
  /** Words the model has never seen: drawn grey and italic, with a dashed underline. */
  unknown?: readonly boolean[];
  /** Heads drawn at a quarter of their light (near-uniform heads, which look at nothing in particular). */
  dimmed?: readonly number[];
}

export function drawSentence(canvas: HTMLCanvasElement, attention: Attention, tokens: string[], opts: SentenceOptions): SentenceDrawing {
  const fontSize = tokens.length > 24 ? 16 : 20;
  const font = `${fontSize}px ui-sans-serif, system-ui, sans-serif`;
  const measure = canvas.getContext('2d')!;
  measure.font = font;
  const labels = tokens.map(displayToken);
  const layout = layoutSentence(labels.map((t) => measure.measureText(t).width), { width: opts.width, fontSize, arcRoom: fontSize * 5 });
  const ctx = sizeCanvas(canvas, layout.width, layout.height);
  ctx.fillStyle = '#0b0e17';
  ctx.fillRect(0, 0, layout.width, layout.height);
  const { layer, heads, selected } = opts;
  const dimmed = new Set(opts.dimmed ?? []);
  const lights = sentenceLights(attention, { layer, heads, query: selected }).map((l) => (dimmed.has(l.head) ? { ...l, weight: l.weight / 4 } : l));
  const glow = receivedLight(attention, { layer, heads: heads.filter((hd) => !dimmed.has(hd)), query: selected });

  ctx.globalCompositeOperation = 'lighter';
  // Glows behind the words that receive light.
  layout.boxes.forEach((b, i) => {
    const g = glow[i];
    if (!g || g.alpha < 0.01) return;
    const cx = b.x + b.width / 2, cy = b.y - fontSize * 0.2;
    const r = b.width / 2 + fontSize * 1.1;
    const grad = ctx.createRadialGradient(cx, cy, 0, cx, cy, r);
    grad.addColorStop(0, rgba(g.rgb, 0.9 * g.alpha));
    grad.addColorStop(1, rgba(g.rgb, 0));
    ctx.fillStyle = grad;
    ctx.beginPath();
    ctx.ellipse(cx, cy, r, fontSize * 1.3, 0, 0, Math.PI * 2);
    ctx.fill();
  });
  // Arcs of light, faint first; a word's light on itself is a small loop above it.
  ctx.lineCap = 'round';
  for (const l of lights) {
    ctx.strokeStyle = rgba(l.rgb, Math.min(1, 0.1 + 0.9 * l.weight));
    ctx.lineWidth = 1 + 9 * l.weight;
    ctx.beginPath();
    if (l.key === selected) {
      const b = layout.boxes[selected];
      const r = fontSize * 0.45;
      ctx.arc(b.x + b.width / 2, b.y - fontSize * 0.75 - r, r, 0.75 * Math.PI, 2.25 * Math.PI);
    } else {
      const a = arcBetween(layout, selected, l.key);
      ctx.moveTo(a.x0, a.y0);
      ctx.quadraticCurveTo(a.cx, a.cy, a.x1, a.y1);
      ctx.stroke();
      ctx.beginPath();
      ctx.fillStyle = rgba(l.rgb, Math.min(1, 0.2 + l.weight));
      ctx.arc(a.x1, a.y1, 1.5 + 3 * l.weight, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    ctx.stroke();
  }
  ctx.globalCompositeOperation = 'source-over';
  // The words: the selected one underlined, the marked one (the answer) boxed; brightness follows the light received.
  ctx.font = font;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  layout.boxes.forEach((b, i) => {
    const lit = Math.min(1, glow[i]?.alpha ?? 0);
    const level = Math.round(170 + 85 * lit);
    const unknown = opts.unknown?.[i] === true;
    ctx.font = unknown ? `italic ${font}` : font;
    ctx.fillStyle = unknown ? '#9aa3b5' : i === selected ? '#ffffff' : `rgb(${level},${level},${Math.min(255, level + 15)})`;
    ctx.fillText(labels[i], b.x, b.y);
    if (unknown) {
      // Unknown to this model: a dashed underline and a small "?" (the word buttons below say it in words).
      ctx.strokeStyle = '#9aa3b5';
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(b.x, b.y + fontSize * 0.7);
      ctx.lineTo(b.x + b.width, b.y + fontSize * 0.7);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `${Math.round(fontSize * 0.6)}px ui-sans-serif, system-ui, sans-serif`;
      ctx.fillText('?', b.x + b.width + 1, b.y - fontSize * 0.5);
      ctx.font = font;
    }
    if (i === selected) {
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(b.x, b.y + fontSize * 0.65, b.width, 2);
    }
    if (i === opts.marked) {
      ctx.strokeStyle = 'rgba(255,255,255,0.7)';
      ctx.lineWidth = 1;
      ctx.strokeRect(b.x - 4, b.y - fontSize * 0.75, b.width + 8, fontSize * 1.5);
    }
  });
  canvas.dataset.arcs = String(lights.length);
  // Where each word stands (its centre), for tests and tools that point at a word.
  canvas.dataset.words = JSON.stringify(layout.boxes.map((b) => [Math.round(b.x + b.width / 2), Math.round(b.y)]));
  canvas.dataset.selected = String(selected);
  return { layout, arcs: lights.length };
}
