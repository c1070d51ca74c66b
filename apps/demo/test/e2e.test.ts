// End to end: the built site in Debian's Chromium (headless, WebGPU on),
// driven by playwright-core, served from 127.0.0.1 (test/site.js, shared with
// the benchmark). Screenshots of every view go to apps/demo/screenshots/
// (git-ignored). Skipped, with a message, where /usr/bin/chromium is missing,
// except in CI (CI=true), where that is a failure: CI installs it with
// `npm run setup` and must run these tests.
//
// These tests check values, never wall time: how fast 300 tokens are
// inspected and drawn is measured by `pnpm --filter @tx/demo bench`. Every
// wait is for a state of the page, and every timeout is sized for WebGPU on
// SwiftShader on a loaded 2-core machine (about 4x what an idle one needs):
// playwright's waits 120 s, vitest's tests and hooks 480 s (vitest.config.ts),
// longer where a test inspects 300 tokens, trains or generates.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, DEMO, LONG_TEXT, openSite, type Site } from './site.js';

const shots = join(DEMO, 'screenshots');
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
  let site: Site;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    site = await openSite(); // launching: at most 180 s
    page = site.page;
    page.setDefaultTimeout(120_000);
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`${expect.getState().currentTestName ?? 'load'}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`${expect.getState().currentTestName ?? 'load'}: ${String(e)}`));
    await site.load('view=attention&iters=40', { timeout: 360_000 });
  }, 600_000);

  afterAll(async () => {
    await site?.close();
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

  /** The coref head's weights from "it", and the word among the others it weighs most (read from the page). */
  const corefLight = async () => {
    const row = JSON.parse((await page.getAttribute('#coref-answer', 'data-coref-row'))!) as number[];
    const tokens = JSON.parse((await page.getAttribute('#coref-answer', 'data-tokens'))!) as string[];
    const it = tokens.indexOf('it');
    const brightest = row.reduce((best, w, j) => (j !== it && (best < 0 || w > row[best]) ? j : best), -1);
    return { row, tokens, it, brightest: tokens[brightest] };
  };

  it('opens on the explainer\'s sentence with the coref encoder: words as nodes, and "it" shines on "animal"', async () => {
    expect(await page.inputValue('#attention-text')).toBe("The animal didn't cross the street because it was too tired.");
    await page.waitForSelector('#attention-sentence:visible');
    expect(await page.getAttribute('#attention-sentence', 'data-selected')).toBe('7'); // "it" shines by default
    expect(Number(await page.getAttribute('#attention-sentence', 'data-arcs'))).toBeGreaterThan(4);
    const tired = await corefLight();
    expect(tired.tokens).toEqual(['the', 'animal', "didn't", 'cross', 'the', 'street', 'because', 'it', 'was', 'too', 'tired', '.']);
    expect(tired.brightest).toBe('animal');
    expect(await page.getAttribute('#coref-answer', 'data-referent')).toBe('animal');
    expect(await page.textContent('#coref-answer .big')).toMatch(/^it = the animal, \d+%$/);
    await page.locator('#view-attention').screenshot({ path: join(shots, 'coref-tired.png') });
    await page.screenshot({ path: join(shots, '1-attention.png'), fullPage: true });

    // Hovering a word shows its light; leaving gives the light back to "it".
    const words = JSON.parse((await page.getAttribute('#attention-sentence', 'data-words'))!) as number[][];
    const box = (await page.locator('#attention-sentence').boundingBox())!;
    await page.mouse.move(box.x + words[5][0], box.y + words[5][1]);
    await page.waitForSelector('#attention-sentence[data-selected="5"]');
    await page.mouse.move(5, 5);
    await page.waitForSelector('#attention-sentence[data-selected="7"]');
    // Toggling the coref head's swatch takes its arcs away; toggling it back returns them.
    const arcs = Number(await page.getAttribute('#attention-sentence', 'data-arcs'));
    await page.click('.swatch[data-head="0"]');
    await page.waitForSelector('.swatch[data-head="0"][aria-pressed="false"]');
    expect(Number(await page.getAttribute('#attention-sentence', 'data-arcs'))).toBeLessThan(arcs);
    await page.click('.swatch[data-head="0"]');
    await page.waitForSelector('.swatch[data-head="0"][aria-pressed="true"]');
    expect(Number(await page.getAttribute('#attention-sentence', 'data-arcs'))).toBe(arcs);

    // Typing "wide" over "tired", key by key with no button, moves the light to "street".
    await page.focus('#attention-text');
    await page.keyboard.press('End');
    for (let i = 0; i < 'tired.'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('wide.', { delay: 40 });
    expect(await page.inputValue('#attention-text')).toBe("The animal didn't cross the street because it was too wide.");
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-tokens')?.endsWith('"wide","."]'));
    const wide = await corefLight();
    expect(wide.tokens[10]).toBe('wide');
    expect(wide.brightest).toBe('street');
    expect(await page.getAttribute('#coref-answer', 'data-referent')).toBe('street');
    expect(await page.textContent('#coref-answer .big')).toMatch(/^it = the street, \d+%$/);
    await page.locator('#view-attention').screenshot({ path: join(shots, 'coref-wide.png') });
  });

  it('draws attention lines for the sentence with the character GPT, and hovering filters them', async () => {
    await page.waitForSelector('#model-select option[value="built-in: shakespeare"]', { state: 'attached' });
    await page.fill('#attention-text', "The animal didn't cross the street because it was too tired.");
    await page.selectOption('#model-select', 'built-in: shakespeare');
    await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('60 tokens'), undefined, { timeout: 240_000 });
    await page.waitForSelector('#attention-lines:visible'); // 60 letters: bertviz's two columns
    const all = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    expect(all).toBeGreaterThan(50);
    await page.screenshot({ path: join(shots, '1c-attention-gpt.png'), fullPage: true });
    await page.locator('#attention-lines').scrollIntoViewIfNeeded();
    const box = (await page.locator('#attention-lines').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 8 + ((box.height - 16) * 43.5) / 60); // the left-hand "i" of "it"
    await page.waitForFunction((n) => Number(document.querySelector('#attention-lines')!.getAttribute('data-lines')) < n, all);
    const hovered = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    expect(hovered).toBeGreaterThan(0);
    expect(hovered).toBeLessThanOrEqual(44);
    await page.screenshot({ path: join(shots, '1a-attention-hover.png') });
    await page.mouse.move(5, 5); // leaving the canvas redraws every line, on the next animation frame
    await page.waitForFunction((n) => document.querySelector('#attention-lines')!.getAttribute('data-lines') === String(n), all);
    // Toggling a head's swatch removes its lines; toggling it back brings them back.
    await page.click('.swatch[data-head="0"]');
    await page.waitForSelector('.swatch[data-head="0"][aria-pressed="false"]');
    await page.waitForFunction((n) => Number(document.querySelector('#attention-lines')!.getAttribute('data-lines')) < n, all); // head 0's lines are gone
    await page.click('.swatch[data-head="0"]');
    await page.waitForSelector('.swatch[data-head="0"][aria-pressed="true"]');
    expect(Number(await page.getAttribute('#attention-lines', 'data-lines'))).toBe(all);
  });

  it('inspects and draws a 300-token text, and hovering still filters', async () => {
    expect(LONG_TEXT.length).toBe(300);
    await page.fill('#attention-text', LONG_TEXT);
    await page.click('#attention-run');
    await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('300 tokens'), undefined, { timeout: 360_000 }); // about 60 s on SwiftShader (bench)
    const all = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    expect(all).toBeGreaterThan(0);
    expect(all).toBeLessThanOrEqual(300 * 4); // at 256+ tokens, at most the 4 strongest keys of each query
    // The first query attends only to itself: hovering it leaves exactly one line. Its row
    // is the first of 300 rows of (height - 16) / 300 px below an 8 px margin.
    await page.locator('#attention-lines').scrollIntoViewIfNeeded();
    const box = (await page.locator('#attention-lines').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 8 + (box.height - 16) * 0.5 / 300);
    await page.waitForFunction(() => document.querySelector('#attention-lines')!.getAttribute('data-lines') === '1');
    await page.screenshot({ path: join(shots, '1b-attention-long.png'), fullPage: true });
    await page.mouse.move(5, 5);
    await page.waitForFunction((n) => document.querySelector('#attention-lines')!.getAttribute('data-lines') === String(n), all);
    await page.fill('#attention-text', "The animal didn't cross the street because it was too tired.");
    await page.click('#attention-run');
    await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('60 tokens'), undefined, { timeout: 240_000 });
  }, 600_000);

  it("shows one token's arithmetic that matches the model's attention", async () => {
    await view('arithmetic');
    const err = await page.getAttribute('#arith-check', 'data-max-err');
    expect(err).not.toBeNull();
    expect(Number(err)).toBeGreaterThanOrEqual(0);
    expect(Number(err)).toBeLessThan(1e-4);
    await page.screenshot({ path: join(shots, '2-arithmetic.png'), fullPage: true });
  });

  it('draws the positional encodings', async () => {
    await view('positional');
    await page.waitForSelector('#pe-sinusoidal[width]'); // drawn once the model's wpe is read back
    await page.screenshot({ path: join(shots, '3-positional.png'), fullPage: true });
  });

  it('trains in the page on WebGPU, with gradient clipping, and the loss goes down', async () => {
    await view('train');
    await page.fill('#train-iters', '30');
    await page.click('#train-toggle');
    await page.waitForSelector('.train[data-state="done"]', { timeout: 600_000 });
    const first = Number(await page.getAttribute('#train-stats', 'data-first-loss'));
    const last = Number(await page.getAttribute('#train-stats', 'data-last-loss'));
    expect(last).toBeLessThan(first - 0.3);
    expect(await page.evaluate(() => (globalThis as unknown as { tx: { tf: { getBackend(): string } } }).tx.tf.getBackend())).toBe('webgpu');
    expect(await page.getAttribute('#train-stats', 'data-grad-clip')).toBe('1');
    expect(Number.isFinite(Number(await page.getAttribute('#train-stats', 'data-grad-norm')))).toBe(true);
    expect(await page.locator('#train-samples li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, '4-train.png'), fullPage: true });
  }, 720_000);

  it('streams generated tokens with next-token bars, on arrival', async () => {
    // Record the token count at every change of the output, from before the view is shown until done:
    // arriving at the view runs its default prompt once, with no click.
    await page.evaluate(() => {
      document.querySelector<HTMLInputElement>('#gen-max')!.value = '30';
      const out = document.querySelector<HTMLElement>('#gen-output')!;
      const counts: number[] = [];
      (globalThis as unknown as { genCounts: number[] }).genCounts = counts;
      new MutationObserver(() => counts.push(Number(out.dataset.tokens))).observe(out, { attributes: true, childList: true });
    });
    await view('generate');
    await page.waitForSelector('#gen-output[data-done="true"]', { timeout: 360_000 });
    const counts = await page.evaluate(() => (globalThis as unknown as { genCounts: number[] }).genCounts);
    expect(new Set(counts.filter((n) => n > 0 && n < 30)).size).toBeGreaterThan(3); // it streamed
    expect(Math.max(...counts)).toBe(30);
    expect(await page.locator('#gen-bars .bar-row').count()).toBeGreaterThan(1);
    await page.screenshot({ path: join(shots, '5-generate.png'), fullPage: true });
  }, 480_000);

  it("draws the dates encoder-decoder's cross-attention, on arrival", async () => {
    await view('encdec'); // its default date runs once, with no click
    await page.waitForSelector('#alignment[data-rows]', { timeout: 240_000 });
    expect(await page.getAttribute('#dates-result', 'data-iso')).toBe('2026-11-27');
    expect(await page.getAttribute('#alignment', 'data-rows')).toBe('10');
    expect(await page.textContent('#alignment-caption')).toMatch(/cross-attention/);
    await page.screenshot({ path: join(shots, '6-encdec.png'), fullPage: true });
  }, 360_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
