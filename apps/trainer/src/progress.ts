// What `tx train` prints between evals. Every --log-interval steps, in a
// terminal or not, a log line that stays (nanoGPT's `iter N: loss ...`):
//   iter  400/2000: loss 2.2876, 24.5 ms/iter, 20,898 tok/s, ETA 39s
// and in a terminal, below it, a progress line that is redrawn each time the
// loss is read back: at each log line, and at an eval (the training loop reads
// nothing between, so that a GPU is not stalled; session.ts):
//   [#######.............]  350/2000  loss 2.3141  lr 9.6e-4  2,612 tok/s  ETA 1m 52s

export interface ProgressState {
  step: number;
  maxIters: number;
  /** The mean loss of the steps read back last. */
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

/** The steps since the last log line, summed: what the next one reports. */
export interface LogInterval {
  /** Steps summed (the interval, or fewer after a resume). */
  steps: number;
  /** Sum of the steps' losses. */
  loss: number;
  /** Sum of the steps' own times in ms (evals and saves not included). */
  ms: number;
  /** Tokens trained on. */
  tokens: number;
}

/**
 * A log line: the mean loss and ms/iter of the interval's steps, its tokens per
 * second, and the ETA at that pace (the remaining steps only: evals and saves
 * add their own time).
 */
export function renderLog(step: number, maxIters: number, i: LogInterval): string {
  const msPerIter = i.ms / i.steps;
  const eta = formatDuration(((maxIters - step) * msPerIter) / 1000);
  const tokensPerSecond = Math.round((i.tokens * 1000) / i.ms).toLocaleString('en-US');
  return `iter ${String(step).padStart(String(maxIters).length)}/${maxIters}: loss ${(i.loss / i.steps).toFixed(4)}, ${msPerIter.toFixed(1)} ms/iter, ${tokensPerSecond} tok/s, ETA ${eta}`;
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
