// End to end: the built site in Debian's Chromium (headless, WebGPU on),
// driven by playwright-core, served from 127.0.0.1. Screenshots of every view
// go to apps/demo/screenshots/ (git-ignored). Skipped, with a message, where
// /usr/bin/chromium is missing, except in CI (CI=true), where that is a
// failure: CI installs it with `npm run setup` and must run these tests.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serve } from './server.js';

const demo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.TX_CHROMIUM ?? '/usr/bin/chromium';
const shots = join(demo, 'screenshots');
const haveChromium = existsSync(CHROMIUM);
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const missing = `e2e: ${CHROMIUM} not found (install Debian's chromium with \`npm run setup\`, or set TX_CHROMIUM)`;
if (!haveChromium && !inCI) console.warn(`${missing}; skipping the browser tests`);

if (!haveChromium && inCI) {
  describe('the demo site in Chromium (CI)', () => {
    it('needs Chromium: the browser tests are never skipped in CI', () => {
      throw new Error(`${missing}. CI=${process.env.CI}: the browser tests must run in CI, so this is a failure, not a skip.`);
    });
  });
}

describe.skipIf(!haveChromium)('the demo site in Chromium', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(demo, 'dist/index.html'))) throw new Error('apps/demo/dist is missing: run `pnpm --filter @tx/demo build` first');
    mkdirSync(shots, { recursive: true });
    server = await serve(join(demo, 'dist'));
    profile = mkdtempSync(join(tmpdir(), 'tx-demo-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: false, // the flag below asks for the new headless mode explicitly
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`${expect.getState().currentTestName ?? 'load'}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`${expect.getState().currentTestName ?? 'load'}: ${String(e)}`));
    await page.goto(`${server.url}?view=attention&iters=40`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const view = async (name: string) => {
    await page.click(`nav.tabs button[data-view="${name}"]`);
    await page.waitForSelector(`#view-${name}:not([hidden])`);
  };

  it('runs on WebGPU and says so', async () => {
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('webgpu');
    expect(await page.evaluate(() => (globalThis as unknown as { tx: { tf: { getBackend(): string } } }).tx.tf.getBackend())).toBe('webgpu');
    expect(await page.textContent('#backend')).toMatch(/^Running on WebGPU/);
  });

  it('draws attention lines for the default sentence, and hovering filters them', async () => {
    expect(await page.inputValue('#attention-text')).toBe("The animal didn't cross the street because it was too tired.");
    const all = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    expect(all).toBeGreaterThan(50);
    await page.screenshot({ path: join(shots, '1-attention.png'), fullPage: true });
    await page.locator('#attention-lines').scrollIntoViewIfNeeded();
    const box = (await page.locator('#attention-lines').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 8 + ((box.height - 16) * 43.5) / 60); // the left-hand "i" of "it"
    await page.waitForFunction((n) => Number(document.querySelector('#attention-lines')!.getAttribute('data-lines')) < n, all);
    const hovered = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    expect(hovered).toBeGreaterThan(0);
    expect(hovered).toBeLessThanOrEqual(44);
    await page.screenshot({ path: join(shots, '1a-attention-hover.png') });
    await page.mouse.move(5, 5);
    // Toggling a head's swatch removes its lines.
    await page.click('.swatch[data-head="0"]');
    expect(await page.getAttribute('.swatch[data-head="0"]', 'aria-pressed')).toBe('false');
    await page.click('.swatch[data-head="0"]');
  });

  it('stays fast at 256+ tokens', async () => {
    const long = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer the slings and arrows of outrageous fortune, or to take arms against a sea of troubles and by opposing end them. To die, to sleep, no more; and by a sleep to say we end the heart-ache and the thousand natural shocks.';
    expect(long.length).toBeGreaterThan(256);
    await page.fill('#attention-text', long);
    await page.click('#attention-run');
    await page.waitForFunction((n) => document.querySelector('.attention .info')?.textContent?.startsWith(`${n} tokens`), long.length, { timeout: 60_000 });
    const ms = await page.evaluate(async () => {
      const canvas = document.querySelector('#attention-lines')!;
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: canvas.getBoundingClientRect().left + 10, clientY: canvas.getBoundingClientRect().top + 20 + i * 30 }));
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      return performance.now() - t0;
    });
    expect(Number(await page.getAttribute('#attention-lines', 'data-lines'))).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000);
    await page.screenshot({ path: join(shots, '1b-attention-long.png'), fullPage: true });
    await page.fill('#attention-text', "The animal didn't cross the street because it was too tired.");
    await page.click('#attention-run');
    await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('60 tokens'));
  });

  it("shows one token's arithmetic that matches the model's attention", async () => {
    await view('arithmetic');
    const err = Number(await page.getAttribute('#arith-check', 'data-max-err'));
    expect(err).toBeLessThan(1e-4);
    await page.screenshot({ path: join(shots, '2-arithmetic.png'), fullPage: true });
  });

  it('draws the positional encodings', async () => {
    await view('positional');
    expect(await page.locator('#pe-sinusoidal').getAttribute('width')).not.toBeNull();
    await page.screenshot({ path: join(shots, '3-positional.png'), fullPage: true });
  });

  it('trains in the page on WebGPU, with gradient clipping, and the loss goes down', async () => {
    await view('train');
    await page.fill('#train-iters', '30');
    await page.click('#train-toggle');
    await page.waitForSelector('.train[data-state="done"]', { timeout: 150_000 });
    const first = Number(await page.getAttribute('#train-stats', 'data-first-loss'));
    const last = Number(await page.getAttribute('#train-stats', 'data-last-loss'));
    expect(last).toBeLessThan(first - 0.3);
    expect(await page.evaluate(() => (globalThis as unknown as { tx: { tf: { getBackend(): string } } }).tx.tf.getBackend())).toBe('webgpu');
    expect(await page.getAttribute('#train-stats', 'data-grad-clip')).toBe('1');
    expect(Number.isFinite(Number(await page.getAttribute('#train-stats', 'data-grad-norm')))).toBe(true);
    expect(await page.locator('#train-samples li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, '4-train.png'), fullPage: true });
  }, 180_000);

  it('streams generated tokens with next-token bars', async () => {
    await view('generate');
    await page.fill('#gen-max', '30');
    const seen = page.evaluate(() => new Promise<number[]>((resolve) => {
      const out = document.querySelector('#gen-output')!;
      const counts: number[] = [];
      new MutationObserver(() => {
        counts.push(Number((out as HTMLElement).dataset.tokens));
        if ((out as HTMLElement).dataset.done === 'true') resolve(counts);
      }).observe(out, { attributes: true, childList: true });
    }));
    await page.click('#gen-run');
    const counts = await seen;
    expect(new Set(counts.filter((n) => n > 0 && n < 30)).size).toBeGreaterThan(3); // it streamed
    expect(Math.max(...counts)).toBe(30);
    expect(await page.locator('#gen-bars .bar-row').count()).toBeGreaterThan(1);
    await page.screenshot({ path: join(shots, '5-generate.png'), fullPage: true });
  }, 120_000);

  it("draws the dates encoder-decoder's cross-attention", async () => {
    await view('encdec');
    await page.click('#dates-run');
    await page.waitForSelector('#alignment[data-rows]', { timeout: 60_000 });
    expect(await page.getAttribute('#dates-result', 'data-iso')).toBe('2026-11-27');
    expect(await page.getAttribute('#alignment', 'data-rows')).toBe('10');
    expect(await page.textContent('#alignment-caption')).toMatch(/cross-attention/);
    await page.screenshot({ path: join(shots, '6-encdec.png'), fullPage: true });
  }, 90_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
