// The live loss curve: scales and a polyline, downsampled so a long run
// draws in constant time.

export interface Point { x: number; y: number }

export interface ChartScale {
  xMin: number; xMax: number; yMin: number; yMax: number;
  /** Data to pixels inside a box of width x height with padding. */
  toPx(p: Point): Point;
}

export function chartScale(points: readonly Point[], width: number, height: number, pad = 28): ChartScale {
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y).filter(Number.isFinite);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs, xMin + 1) : 1;
  let yMin = ys.length ? Math.min(...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  if (yMax - yMin < 1e-6) { yMin -= 0.5; yMax += 0.5; }
  return {
    xMin, xMax, yMin, yMax,
    toPx: ({ x, y }) => ({
      x: pad + ((x - xMin) / (xMax - xMin)) * (width - 2 * pad),
      y: height - pad - ((y - yMin) / (yMax - yMin)) * (height - 2 * pad),
    }),
  };
}

/** At most `max` points: the mean of each bucket, so noise is smoothed and the trend kept. */
export function downsample(points: readonly Point[], max: number): Point[] {
  if (points.length <= max) return points.slice();
  const out: Point[] = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * size), to = Math.max(from + 1, Math.floor((b + 1) * size));
    let sx = 0, sy = 0;
    for (let i = from; i < to; i++) { sx += points[i].x; sy += points[i].y; }
    out.push({ x: sx / (to - from), y: sy / (to - from) });
  }
  return out;
}

/** Exponential moving average, as the smoothed curve beside the raw losses. */
export function ema(values: readonly number[], beta = 0.9): number[] {
  const out: number[] = [];
  let m = 0;
  values.forEach((v, i) => {
    m = beta * m + (1 - beta) * v;
    out.push(m / (1 - beta ** (i + 1)));
  });
  return out;
}
