// The @tx benchmark harness. This machine is shared and noisy, so every figure
// is the median of several timed runs after warm-up, and comparisons are
// made against a baseline measured in the same process.

/**
 * Time fn: `warmup` untimed calls, then `iters` timed ones (at least
 * `minMs` in total). Returns the median and spread in milliseconds.
 */
export async function measure(fn, { warmup = 2, iters = 10, minMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  while (times.length < iters || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), runs: times.length };
}

/** Print rows as an aligned table (and as one JSON line per row when --json is given). */
export function report(title, rows) {
  if (process.argv.includes('--json')) {
    for (const row of rows) console.log(JSON.stringify({ bench: title, ...row }));
    return;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  console.log(`\n## ${title}\n`);
  console.log(columns.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(columns.map((c, i) => cell(r[c]).padEnd(widths[i])).join('  '));
}
