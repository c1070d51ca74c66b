// Shared Vitest settings for every @tx package: tests live beside the code as
// src/*.test.ts. Tensor tests are CPU-heavy and the CI machine has 2 cores, so
// files run one at a time in forked processes (tfjs's global engine state stays
// per file) with generous timeouts; speed is measured by `pnpm bench`, not here.
import { defineConfig } from 'vitest/config';

export function txVitestConfig(overrides = {}) {
  return defineConfig({
    ...overrides,
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...(overrides.test ?? {}),
    },
  });
}
