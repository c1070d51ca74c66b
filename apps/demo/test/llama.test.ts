// Llama-family folders in the built site, in Chromium on wasm (test/site.js,
// as e2e.test.ts): the fixtures of tooling/fixtures/hf_llama.py (2 layers, 4
// query heads over 2 KV heads, or 1 for Mistral; BF16 in two shards plus an
// index) loaded through the file picker, and by URL from another origin. The
// page reads "€" (not in the fixture's vocabulary: three byte tokens) as
// "€ 1/3", "€ 2/3", "€ 3/3", the head grid labels which query heads share a KV
// head, and the generate view streams tokens. Screenshot: llama-heads.png in
// screenshots/ (and in TX_SHOTS, when set). Waits are for states of the page,
// sized for a loaded 2-core machine; skipped, like e2e.test.ts, without Chromium.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { LLAMA_FILES, writeLlamaFixture } from './hf-fixture.js';
import { CHROMIUM, DEMO, openSite, serve, type Site } from './site.js';

const haveChromium = existsSync(CHROMIUM);
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
if (!haveChromium && !inCI) console.warn(`llama: ${CHROMIUM} not found; skipping the Llama browser tests`);

describe.skipIf(!haveChromium && !inCI)('Llama-family folders in the site', () => {
  let site: Site;
  let page: Page;
  let dir: string;
  const shots = [join(DEMO, 'screenshots'), ...(process.env.TX_SHOTS ? [process.env.TX_SHOTS] : [])];
  const message = async () => (await page.textContent('#message')) ?? '';
  // The built-in Shakespeare model is held back until the Llama is picked: a built-in arriving after the user's pick must not replace it.
  let release = () => {};
  const shakespeareHeld = new Promise<void>((ok) => { release = ok; });

  beforeAll(async () => {
    for (const s of shots) mkdirSync(s, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'tx-llama-'));
    writeLlamaFixture(join(dir, 'llama'), 'llama');
    writeLlamaFixture(join(dir, 'mistral'), 'mistral');
    site = await openSite();
    page = site.page;
    await page.route('**/models/shakespeare/**', async (route) => { await shakespeareHeld; await route.continue(); });
    await site.load('backend=wasm&view=attention', { timeout: 360_000 });
  }, 600_000);

  afterEach(() => release());
  afterAll(async () => {
    release();
    await site?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads a sharded Llama folder through the picker, shows byte tokens readably and which heads share a KV head, and generates', async () => {
    const files = LLAMA_FILES.map((f) => join(dir, 'llama', f));
    await page.setInputFiles('#model-files', files);
    await page.waitForSelector('#model-select option[value="hf-llama-tiny"]', { state: 'attached' });
    expect(await page.textContent('#model-select option[value="hf-llama-tiny"]')).toBe('hf-llama-tiny (llama)');
    expect(await page.getAttribute('.loading', 'data-state')).toBe('done');
    const total = String(files.reduce((sum, f) => sum + statSync(f).size, 0)); // config, index, both shards, tokenizer
    expect([await page.getAttribute('#load-progress', 'data-loaded'), await page.getAttribute('#load-progress', 'data-total')]).toEqual([total, total]);
    // Only now may the built-in Shakespeare model arrive: it joins the menu, and the Llama stays the model picked.
    expect(await page.getAttribute('body', 'data-models')).toBeNull();
    release();
    await page.waitForSelector('body[data-models="loaded"]', { timeout: 360_000 });
    expect(await page.locator('#model-select option[value="built-in: shakespeare"]').count()).toBe(1);
    expect(await page.inputValue('#model-select')).toBe('hf-llama-tiny');

    await page.fill('#attention-text', 'The café costs 5 € now');
    await page.click('#attention-run');
    await page.waitForFunction(() => /^\d+ tokens, 2 layers × 4 heads/.test(document.querySelector('.attention .info')?.textContent ?? ''));
    const words = await page.locator('#view-attention button.word').allTextContents();
    expect(words.filter((w) => w.startsWith('€'))).toEqual(['€ 1/3', '€ 2/3', '€ 3/3']);
    expect(words[0]).toBe('<s>');
    expect(words).toContain('·ca'); // "▁ca": a leading space, made visible
    await page.click('#layout-columns');
    await page.waitForSelector('#attention-grid[data-kv-groups]');
    expect(await page.getAttribute('#attention-grid', 'data-kv-groups')).toBe('KV 0: heads 0–1; KV 1: heads 2–3');
    expect(await page.getAttribute('#attention-grid', 'aria-label')).toContain('query heads sharing a key/value head: KV 0: heads 0–1; KV 1: heads 2–3');
    expect(await page.getAttribute('button.swatch[data-head="3"]', 'title')).toContain('shares KV head 1');
    for (const s of shots) await page.locator('#view-attention').screenshot({ path: join(s, 'llama-heads.png') });

    await page.click('nav.tabs button[data-view="generate"]');
    await page.waitForSelector('#view-generate:not([hidden])');
    await page.waitForSelector('#view-generate [data-done="true"]', { timeout: 240_000 });
    const generated = await page.locator('#view-generate [data-done="true"]').getAttribute('data-tokens');
    expect(Number(generated)).toBeGreaterThan(0);
    expect(await page.locator('#view-generate .bar-row').count()).toBeGreaterThan(0);
    expect(await page.textContent('#view-generate')).toContain('hf-llama-tiny');
  }, 600_000);

  it('loads a Mistral folder by URL from another origin, its one KV head shared by all four query heads, its sliding window in the arithmetic', async () => {
    const server = await serve(dir);
    const missing: string[] = [];
    page.on('response', (r) => { if (r.status() === 404) missing.push(r.url()); });
    try {
      await page.click('nav.tabs button[data-view="attention"]');
      await page.fill('#model-url', `${server.url}mistral/`);
      await page.click('#model-url-load');
      await page.waitForSelector('#model-select option[value="hf-mistral-tiny"]', { state: 'attached' });
      await page.fill('#attention-text', 'To be, or not to be, that is the question');
      await page.click('#attention-run');
      await page.waitForFunction(() => document.querySelector('#attention-grid')?.getAttribute('data-kv-groups') === 'KV 0: heads 0–3');
      expect(await message()).not.toContain('Not loaded');
      // The arithmetic at the last token: q·k with the K its KV head shares, the keys past the window of 5 masked, equal to the model's row.
      await page.click('nav.tabs button[data-view="arithmetic"]');
      await page.waitForSelector('#view-arithmetic:not([hidden]) #arith-check');
      expect(Number(await page.getAttribute('#arith-check', 'data-max-err'))).toBeLessThan(1e-4);
      expect(await page.textContent('#view-arithmetic')).toContain('a sliding window of 5');
      expect(await page.locator('#view-arithmetic table.arith tr.masked').count()).toBeGreaterThan(0);
      // The one request that fails: HEAD model.safetensors, asked first; a sharded folder has the index instead (so does the Hub).
      expect(missing).toEqual([`${server.url}mistral/model.safetensors`]);
    } finally {
      await server.close();
    }
    expect(site.errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
  }, 600_000);

  it('where the backend cannot hold it, refuses the Llama in one line after config.json and the index, before a shard is read', async () => {
    await site.load('backend=wasm&view=attention&memory=8MB', { timeout: 360_000 });
    const files = LLAMA_FILES.map((f) => join(dir, 'llama', f));
    await page.setInputFiles('#model-files', files);
    await page.waitForSelector('.loading[data-state="failed"]');
    // Weights: 77,856 parameters x 4 B = 311.4 kB. Attention: 2 layers x 4 heads x 1,024² x 4 B = 33.6 MB, plus past the context of 64
    // a batch of 64 windows (lib/memory.ts' windowBatch): 2 x 64 x 4 x 64² x 4 B = 8.4 MB; 41.9 MB in all.
    expect(await message()).toMatch(/^This backend cannot hold the picked model: it needs about [\d.]+ MB \(weights 311\.4 kB, attention 41\.9 MB\) beside the [\d.]+ MB of the models already loaded, more than the 8\.0 MB of what this page may use/);
    const read = statSync(files[0]).size + statSync(files[1]).size; // config.json and model.safetensors.index.json
    expect(await page.getAttribute('#load-progress', 'data-loaded')).toBe(String(read));
    expect(await page.locator('#model-select option[value="hf-llama-tiny"]').count()).toBe(0);
  }, 600_000);
});
