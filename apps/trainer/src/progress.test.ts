// The log line and the progress line, on hand-computed values.
import { describe, expect, it } from 'vitest';
import { formatDuration, renderLog, renderProgress } from './progress.js';

describe('renderLog', () => {
  it('reports the mean loss and ms/iter of the interval, its tok/s, and the ETA at that pace', () => {
    // 100 steps of 32 x 16 tokens in 2,450 ms: 24.5 ms/iter, 51,200 / 2.45 s = 20,898 tok/s; 1,600 steps left x 24.5 ms = 39.2 s.
    const line = renderLog(400, 2000, { steps: 100, loss: 228.76, ms: 2450, tokens: 51_200 });
    expect(line).toBe('iter  400/2000: loss 2.2876, 24.5 ms/iter, 20,898 tok/s, ETA 39s');
  });

  it('averages over the steps it has (a resumed run starts mid-interval), and says 0s at the end', () => {
    // 3 steps: losses 2, 2.5, 3 -> 2.5; 90 ms -> 30 ms/iter; 1,536 tokens / 0.09 s = 17,067 tok/s.
    expect(renderLog(1500, 1500, { steps: 3, loss: 7.5, ms: 90, tokens: 1536 })).toBe('iter 1500/1500: loss 2.5000, 30.0 ms/iter, 17,067 tok/s, ETA 0s');
    // 1,000 steps left at 250 ms: 250 s.
    expect(renderLog(1000, 2000, { steps: 100, loss: 200, ms: 25_000, tokens: 1000 })).toMatch(/, 250\.0 ms\/iter, 40 tok\/s, ETA 4m 10s$/);
  });
});

describe('renderProgress and formatDuration', () => {
  it('draws the bar, the step, loss, lr, tok/s and the ETA', () => {
    expect(renderProgress({ step: 350, maxIters: 2000, loss: 2.31414, lr: 9.6e-4, tokensPerSecond: 2612.4, msPerStep: 68 })).toBe(
      '[####................]  350/2000  loss 2.3141  lr 9.6e-4  2,612 tok/s  ETA 1m 52s',
    );
  });

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [60, '1m 00s'],
    [3599, '59m 59s'],
    [3660, '1h 01m'],
    [-1, '?'],
    [Infinity, '?'],
  ])('%d s is %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});
