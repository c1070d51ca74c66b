// @tx's WGSL kernels in Chromium: the cases of packages/core/test/webgpu-parity.ts
// (the list the Node test, packages/core/src/webgpu/kernels.test.ts, runs
// through Dawn) on tfjs's webgpu backend in Debian's Chromium, WebGPU on
// SwiftShader, against the PyTorch fixture (tooling/fixtures/kernels.py) to
// 1e-4, outputs and gradients. Each case counts its dispatches per tfjs kernel,
// so a pass proves @tx's Tx* kernels ran, not tfjs's fallback (and one case
// switches them off: none of them runs, same values).
//
// The page (test/webgpu-parity/) is never part of the site: it is built here,
// with Vite, into a folder of its own (a few seconds), and served from there.
// It bundles the built @tx/core: run `pnpm --filter @tx/core build` after
// changing core's source. The largest difference per op is printed at the end.
// Skipped, like e2e.test.ts, where Chromium is missing, except in CI.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@tx/core';
import { maxAbsDifference, readFixture } from '@tx/core/testing';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelsFixture } from '../../../packages/core/test/kernels-fixture.js';
import { expectParity, webgpuParityCases, type ParityOutcome } from '../../../packages/core/test/webgpu-parity.js';
import { CHROMIUM, DEMO, openSite, type Site } from './site.js';

const haveChromium = existsSync(CHROMIUM);
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
if (!haveChromium && !inCI) console.warn(`webgpu-parity: ${CHROMIUM} not found; skipping the WebGPU parity test in Chromium`);

// Listed here for it() (the page lists the same cases, and each run says its name); they run only in the page.
const fixture = readFixture<KernelsFixture>(new URL('../../../packages/core/test/fixtures/kernels.json', import.meta.url));
const cases = webgpuParityCases({ ...core, maxAbsDifference }, fixture);

/** The page's globalThis.parity (test/webgpu-parity/main.ts). */
interface ParityPage {
  start(): Promise<{ backend: string; adapter: { vendor: string; architecture: string; description: string } | null }>;
  names(): string[];
  run(i: number): Promise<ParityOutcome>;
}

describe.skipIf(!haveChromium && !inCI)("@tx's WGSL kernels on webgpu in Chromium", () => {
  let out: string;
  let site: Site;
  let page: Page;
  const errors: string[] = [];
  const outcomes: ParityOutcome[] = [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'tx-webgpu-parity-'));
    // logLevel error: the page bundles @tx/core/testing, whose readFixture imports node:fs (stubbed by Vite, never called here).
    await build({ root: join(DEMO, 'test', 'webgpu-parity'), configFile: false, logLevel: 'error', build: { outDir: out, emptyOutDir: true, target: 'es2022' } });
    site = await openSite({ dist: out });
    page = site.page;
    page.setDefaultTimeout(120_000);
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(site.url);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  });

  afterAll(async () => {
    await site?.close();
    if (out) rmSync(out, { recursive: true, force: true });
    // The largest |ours - reference| per op, over its cases' outputs and gradients (the tolerances are in the cases).
    const worst: Record<string, number> = {};
    for (const o of outcomes) for (const c of o.checks) worst[o.kernel] = Math.max(worst[o.kernel] ?? 0, c.difference);
    if (outcomes.length > 0) console.log(`WebGPU parity in Chromium, the largest difference per op:\n${Object.entries(worst).map(([k, d]) => `  ${k.padEnd(14)}${d.toExponential(2)}`).join('\n')}`);
  });

  it('runs on tfjs\'s webgpu backend, with the same cases as the Node test', async () => {
    const { backend, adapter } = await page.evaluate(() => (globalThis as unknown as { parity: ParityPage }).parity.start());
    expect(backend).toBe('webgpu');
    console.log(`webgpu-parity: the adapter is ${adapter ? `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim() : 'unknown'}`);
    expect(await page.evaluate(() => (globalThis as unknown as { parity: ParityPage }).parity.names())).toEqual(cases.map((c) => c.name));
  });

  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const outcome = await page.evaluate((n) => (globalThis as unknown as { parity: ParityPage }).parity.run(n), i);
      expect(outcome.name).toBe(c.name);
      outcomes.push(outcome);
      expectParity(expect, outcome);
    });
  }

  it('logs no error in the page', () => {
    expect(errors).toEqual([]);
  });
});
