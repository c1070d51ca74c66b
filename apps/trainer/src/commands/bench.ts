// tx bench: tokens/s of a training step (forward, backward, AdamW) and of
// generation with and without the KV cache, for a preset on a backend. On
// webgpu also what a step and a generated token issue at the WebGPU API
// (dispatches, queue submits, read-backs: @tx/core's countWebGPU), the counts
// a small model's speed on a real GPU is bound by, the same on SwiftShader.
import { GPT, Llama, presets, type GPTConfig, type LlamaConfig } from '@tx/blocks';
import { Rng, countWebGPU, initBackend, kernelsInfo, tf, type BackendPreference, type WebGPUCounts } from '@tx/core';
import { generate } from '@tx/generate';
import { AdamW, deferredTrainStep, languageModelLoss, trainStep, type Batch } from '@tx/train';
import { BENCH_FLAGS } from '../flags.js';
import { parse, positive, threadsFlag, UsageError, type Io } from '../args.js';

export async function benchCommand(argv: string[], io: Io): Promise<void> {
  const { values } = parse(argv, BENCH_FLAGS);
  const presetName = (values.preset as string | undefined) ?? 'nanogpt-cpu';
  const preset = (presets as Record<string, GPTConfig | LlamaConfig | object>)[presetName];
  if (!preset || !('nEmbd' in preset)) throw new UsageError(`--preset must name a GPT or Llama preset (nanogpt-cpu, shakespeare-char, gpt2, llama-mini), got "${presetName}"`);
  const info = await initBackend({ prefer: ((values.backend as string | undefined) ?? 'auto') as BackendPreference, threads: threadsFlag(values) });
  const kernels = kernelsInfo();
  const config = 'nKvHead' in preset ? preset : ({ ...preset, dropout: 0 } as GPTConfig);
  const B = positive(values, 'batch-size', true) ?? 12;
  const steps = positive(values, 'steps', true) ?? 10;
  const T = config.blockSize;
  const rng = new Rng(1);
  const model = 'nKvHead' in config ? new Llama(config, { rng }) : new GPT(config, { rng });
  const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3 });
  // The step `tx train` takes (@tx/train's trainStep): forward, cross-entropy, backward, clip, AdamW.
  const update = trainStep({ model, optimizer, gradClip: 1, loss: (b: Batch) => languageModelLoss(model, b) });
  const random = () => Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize));

  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const batch = { x: random(), y: random(), batchSize: B, blockSize: T };
    const t0 = performance.now();
    await update([batch], 1e-3);
    if (i >= 2) times.push(performance.now() - t0);
  }
  // The step trainLoop takes with a logInterval: nothing read back inside it.
  const counted = info.backend === 'webgpu' ? await countStep(deferredTrainStep({ model, optimizer, gradClip: 1, loss: (b: Batch) => languageModelLoss(model, b) }), { x: random(), y: random(), batchSize: B, blockSize: T }) : null;
  optimizer.dispose();
  const trainMs = median(times);

  model.eval();
  const newTokens = positive(values, 'new-tokens', true) ?? Math.min(500, 4 * T);
  const gen = async (cache: boolean, contextOverflow: 'crop' | 'restart' = 'crop') => (await generate(model, [0], { maxNewTokens: newTokens, cache, contextOverflow, seed: 1 })).tokensPerSecond;
  await gen(true); // warm-up: compiles kernels, sizes caches
  const cached = await gen(true);
  const restart = await gen(true, 'restart'); // past the context, the faster policy
  const uncached = await gen(false);
  const perToken = info.backend === 'webgpu' ? await countToken(model) : null;
  model.dispose();
  const result = { preset: presetName, backend: info.backend, kernels: kernels.active ? kernels.simd : 'off', threads: kernels.threads, batchSize: B, blockSize: T, trainMsPerStep: trainMs, trainTokensPerSecond: (B * T * 1000) / trainMs, generateTokensPerSecondCached: cached, generateTokensPerSecondCachedRestart: restart, generateTokensPerSecondUncached: uncached, newTokens, ...(counted && perToken ? { webgpu: { trainStep: counted, decodeToken: perToken } } : {}) };
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(`${presetName} on ${info.backend}${kernels.active ? ` with @tx's kernels (${kernels.simd}, ${kernels.threads} thread${kernels.threads > 1 ? 's' : ''})` : ''}\n`);
    io.stdout.write(`  train step (batch ${B} x ${T}): ${trainMs.toFixed(1)} ms, ${Math.round(result.trainTokensPerSecond).toLocaleString('en-US')} tokens/s\n`);
    io.stdout.write(`  generate ${newTokens} tokens, batch 1: ${Math.round(cached)} tokens/s with the KV cache (${Math.round(restart)} with --context-overflow restart), ${Math.round(uncached)} without\n`);
    if (counted && perToken) {
      io.stdout.write(`  WebGPU per train step (nothing read back, as trainLoop with --log-interval): ${line(counted)}\n`);
      io.stdout.write(`  WebGPU per generated token (KV cache, batch 1): ${line(perToken)}\n`);
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** What one training step issues at the WebGPU API (after the timed steps, so its shaders are compiled). */
async function countStep(step: (batches: Batch[], lr: number) => { loss: tf.Scalar; gradNorm: tf.Scalar | null }, batch: Batch): Promise<WebGPUCounts> {
  const { result, counts } = await countWebGPU(() => step([batch], 1e-3));
  tf.dispose(result.gradNorm ? [result.loss, result.gradNorm] : [result.loss]);
  return counts;
}

/** What one generated token issues, with the KV cache: 8 tokens' counts less 4 tokens', over 4 (the prompt's forward cancels out). */
async function countToken(model: GPT | Llama): Promise<WebGPUCounts> {
  const run = (n: number) => countWebGPU(() => generate(model, [0], { maxNewTokens: n, cache: true, seed: 1 })).then((r) => r.counts);
  const [a, b] = [await run(4), await run(8)];
  const per = (x: number, y: number) => (y - x) / 4;
  const byKernel: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.byKernel), ...Object.keys(b.byKernel)])) {
    const n = per(a.byKernel[k] ?? 0, b.byKernel[k] ?? 0);
    if (n !== 0) byKernel[k] = n;
  }
  return { dispatches: per(a.dispatches, b.dispatches), submits: per(a.submits, b.submits), readBacks: per(a.readBacks, b.readBacks), byKernel };
}

function line(c: WebGPUCounts): string {
  const kinds = Object.entries(c.byKernel).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${c.dispatches} dispatches, ${c.submits} submits, ${c.readBacks} read-backs (${kinds})`;
}
