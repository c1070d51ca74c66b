// The progress line `tx train` redraws in a terminal:
//   [#######.............]  350/2000  loss 2.3141  lr 9.6e-4  2,612 tok/s  ETA 1m 52s

export interface ProgressState {
  step: number;
  maxIters: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  /** Milliseconds per step (smoothed), for the ETA. */
  msPerStep: number;
}

export function renderProgress(s: ProgressState, width = 20): string {
  const done = Math.min(width, Math.round((s.step / s.maxIters) * width));
  const bar = `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
  const steps = `${String(s.step).padStart(String(s.maxIters).length)}/${s.maxIters}`;
  const eta = formatDuration(((s.maxIters - s.step) * s.msPerStep) / 1000);
  return `${bar} ${steps}  loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(1)}  ${Math.round(s.tokensPerSecond).toLocaleString('en-US')} tok/s  ETA ${eta}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An exponential moving average, so the ETA does not jump with every noisy step. */
export function smooth(previous: number | undefined, value: number, alpha = 0.1): number {
  return previous === undefined ? value : previous + alpha * (value - previous);
}
