import { txVitestConfig } from '@tx/config/vitest';

// The browser tests (test/e2e.test.ts) run WebGPU on SwiftShader, on a 2-core
// machine that other work may be loading: every test and hook gets 480 s, 4x
// the workspace's 120 s (tests that inspect 300 tokens, train or generate set more). Nothing
// here checks wall time; speed is in `pnpm bench` (bench/long-text.mjs).
export default txVitestConfig({ test: { testTimeout: 480_000, hookTimeout: 480_000 } });
