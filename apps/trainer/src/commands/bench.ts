// tx bench: tokens/s of a training step (forward, backward, AdamW) and of
// generation with and without the KV cache, for a preset on a backend.
import { GPT, Llama, presets, type GPTConfig, type LlamaConfig } from '@tx/blocks';
import { Rng, initBackend, kernelsInfo, tf, type BackendPreference } from '@tx/core';
import { generate } from '@tx/generate';
import { AdamW, languageModelLoss, trainStep, type Batch } from '@tx/train';
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
  optimizer.dispose();
  const trainMs = median(times);

  model.eval();
  const newTokens = positive(values, 'new-tokens', true) ?? Math.min(500, 4 * T);
  const gen = async (cache: boolean, contextOverflow: 'crop' | 'restart' = 'crop') => (await generate(model, [0], { maxNewTokens: newTokens, cache, contextOverflow, seed: 1 })).tokensPerSecond;
  await gen(true); // warm-up: compiles kernels, sizes caches
  const cached = await gen(true);
  const restart = await gen(true, 'restart'); // past the context, the faster policy
  const uncached = await gen(false);
  model.dispose();
  const result = { preset: presetName, backend: info.backend, kernels: kernels.active ? kernels.simd : 'off', threads: kernels.threads, batchSize: B, blockSize: T, trainMsPerStep: trainMs, trainTokensPerSecond: (B * T * 1000) / trainMs, generateTokensPerSecondCached: cached, generateTokensPerSecondCachedRestart: restart, generateTokensPerSecondUncached: uncached, newTokens };
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(`${presetName} on ${info.backend}${kernels.active ? ` with @tx's kernels (${kernels.simd}, ${kernels.threads} thread${kernels.threads > 1 ? 's' : ''})` : ''}\n`);
    io.stdout.write(`  train step (batch ${B} x ${T}): ${trainMs.toFixed(1)} ms, ${Math.round(result.trainTokensPerSecond).toLocaleString('en-US')} tokens/s\n`);
    io.stdout.write(`  generate ${newTokens} tokens, batch 1: ${Math.round(cached)} tokens/s with the KV cache (${Math.round(restart)} with --context-overflow restart), ${Math.round(uncached)} without\n`);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
