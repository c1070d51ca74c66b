// Workload W1 (docs/performance.md §5) side by side, in one script: @tx's training step with
// its wasm kernels on 1 and 2 threads, with the kernels off (tfjs's own), and
// PyTorch's nanoGPT step (tooling/bench/w1_pytorch.py) on 1 and 2 threads,
// interleaved over rounds so that a noisy machine hits all alike. Prints the
// medians and the ratios to PyTorch's one thread; --json for one object.
//
// Run (after pnpm build; PyTorch: apt-get install python3-torch libopenblas0-pthread):
//   node tooling/bench/w1.mjs [--rounds 3] [--json]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at < 0 ? 3 : Number(args[at + 1]);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`w1.mjs: --rounds must be an integer >= 1, got "${args[at + 1]}"`);
  process.exit(2);
}
const tx = (env, threads) => () => {
  const out = execFileSync('node', ['apps/trainer/dist/cli.js', 'bench', '--backend', 'wasm', '--threads', String(threads), '--steps', '20', '--json'], { cwd: root, env: { ...process.env, ...env } });
  const j = JSON.parse(out.toString());
  return { train: j.trainTokensPerSecond, generate: j.generateTokensPerSecondCachedRestart };
};
const torch = (threads) => () => {
  const out = execFileSync('/usr/bin/python3', ['tooling/bench/w1_pytorch.py', '--threads', String(threads)], { cwd: root, env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads) } });
  return { train: JSON.parse(out.toString()).tokensPerSecond, generate: NaN };
};
const runs = {
  '@tx, kernels, 1 thread': tx({}, 1),
  '@tx, kernels, 2 threads': tx({}, 2),
  '@tx, TX_KERNELS=off': tx({ TX_KERNELS: 'off' }, 1),
  'PyTorch, 1 thread': torch(1),
  'PyTorch, 2 threads': torch(2),
};
const seen = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [name, run] of Object.entries(runs)) seen[name].push(run());
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const base = median(seen['PyTorch, 1 thread'].map((x) => x.train));
const rows = Object.entries(seen).map(([name, xs]) => ({
  run: name,
  'train tokens/s': Math.round(median(xs.map((x) => x.train))),
  'vs PyTorch 1 thread': +(median(xs.map((x) => x.train)) / base).toFixed(2),
  'generate tokens/s (restart)': Number.isNaN(xs[0].generate) ? '' : Math.round(median(xs.map((x) => x.generate))),
}));
if (args.includes('--json')) console.log(JSON.stringify({ rounds, rows }));
else {
  console.log(`W1 (nanogpt-cpu, batch 12 x 64), medians of ${rounds} interleaved rounds`);
  console.table(rows);
}
