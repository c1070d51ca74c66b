// End to end, as a learner meets the site: the built site in Debian's
// Chromium, on the backend the site picks by itself (wasm where the only
// WebGPU adapter is SwiftShader). Each test waits for a state of the page:
// unknown words keep their text and badge, the Winograd note, a too-long text
// clearing the answer, the two-layer stepper, the keyboard, the dates
// model's flags, no serious axe-core violation on any view, no horizontal
// overflow at 390 px. Screenshots go to apps/demo/screenshots/ (git-ignored).
// Skipped where Chromium is missing (test/e2e.test.ts fails CI for that).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@tx/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAME, writeHuggingFaceFixture } from './hf-fixture.js';
import { CHROMIUM, DEMO, openSite, serve, type Site } from './site.js';

const shots = join(DEMO, 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const VIEWS = ['attention', 'arithmetic', 'positional', 'train', 'generate', 'encdec'];
const SEED = "The animal didn't cross the street because it was too tired.";

describe.skipIf(!existsSync(CHROMIUM))('the site, as a learner meets it', () => {
  let site: Site;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    site = await openSite();
    page = site.page;
    await site.load('view=attention&iters=40', { timeout: 360_000 });
  }, 600_000);

  afterAll(async () => {
    await site?.close();
  });

  const view = (name: string) => site.view(name);
  const typeText = async (text: string) => {
    await view('attention');
    await page.fill('#attention-text', text);
  };

  it('takes wasm when the only WebGPU adapter is a software fallback, and says so', async () => {
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ isFallbackAdapter?: boolean; info?: { vendor: string; architecture: string } } | null> } }).gpu;
      const a = await gpu?.requestAdapter();
      return a ? { fallback: a.isFallbackAdapter === true, vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '' } : null;
    });
    const software = adapter !== null && (adapter.fallback || /swiftshader/i.test(`${adapter.vendor} ${adapter.architecture}`));
    if (!software) return; // a real GPU: the site rightly takes WebGPU (test/e2e.test.ts asks for it by ?backend=webgpu)
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('wasm');
    expect(await page.textContent('#backend')).toBe('Running on wasm: the only WebGPU adapter is a software fallback (SwiftShader), slower than wasm');
    // The toolbar's progress bar is hidden until a model is loaded (it animated forever before).
    expect(await page.locator('.loading').isVisible()).toBe(false);
  });

  it('keeps words the model never saw, with their badge, and answers only among the nouns it knows', async () => {
    await typeText("The elephant didn't climb the mountain because it was too exhausted.");
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-tokens')?.includes('elephant'));
    const unknown = await page.locator('#attention-words .word.unknown').allTextContents();
    expect(unknown).toEqual(['elephantunknown to this model', 'climbunknown to this model', 'mountainunknown to this model']);
    const answer = (await page.textContent('#coref-answer'))!;
    expect(answer).not.toContain('<unk>');
    expect(await page.textContent('#coref-answer .big')).toBe('it = ?');
    expect(answer).toContain('This sentence is outside what this model was trained on');
    expect(await page.textContent('#attention-live')).toBe('it: no known noun to point at');
    // The seed sentence: a qualified percentage, and the text alternative of the picture.
    await typeText(SEED);
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-tokens')?.endsWith('"tired","."]'));
    expect(await page.textContent('#coref-answer .big')).toMatch(/^it = the animal, \d+%$/);
    expect(await page.textContent('#coref-answer')).toContain('within its 78 words');
    expect(await page.textContent('#attention-live')).toMatch(/^it: animal \d+%, street \d+%$/);
  });

  it('offers the Winograd pair with a note that this model fails it, and why', async () => {
    await view('attention');
    await page.click('button[data-example="Winograd: too big"]');
    await page.waitForSelector('#winograd-note');
    expect(await page.textContent('#winograd-note')).toContain('This model fails it. It has never seen “trophy”, “fit”, “suitcase”');
    expect(await page.locator('#attention-words .word.unknown').count()).toBe(3);
    await page.locator('#view-attention').screenshot({ path: join(shots, 'learner-trophy.png') });
    // A chip puts a known word in its place: the sentence becomes one the model can read again.
    await page.click('button[data-example="the explainer’s"]');
    await page.waitForFunction(() => !document.querySelector('#winograd-note') && document.querySelector('#coref-answer')?.getAttribute('data-referent') === 'animal');
    await page.click('#coref-help button.chip:text-is("fox")');
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-referent') === 'fox');
    expect(await page.inputValue('#attention-text')).toBe("The fox didn't cross the street because it was too tired.");
  });

  it('clears the answer and greys the picture for a text too long to read', async () => {
    await typeText('word '.repeat(88));
    await page.waitForSelector('.attention[data-stale="true"]');
    expect(await page.textContent('#coref-answer .big')).toBe('No answer');
    expect(await page.getAttribute('#coref-answer', 'data-referent')).toBeNull();
    expect(await page.textContent('#attention-live')).toBe('No answer: the text is 88 words; this model reads at most 32.');
    await typeText(SEED);
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-referent') === 'animal');
    expect(await page.getAttribute('.attention', 'data-stale')).toBeNull();
  });

  it('steps through the two-layer story: layer 0 gathers "tired", layer 1 points to "animal"', async () => {
    await typeText(SEED);
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-referent') === 'animal');
    await page.click('#stepper button[data-stage="0"]');
    await page.waitForSelector('.attention[data-stage="0"]');
    expect(await page.inputValue('#layer-select')).toBe('0');
    expect(await page.textContent('#stepper button[data-stage="0"]')).toMatch(/^1 · layer 0: “it” gathers “tired”/);
    await page.locator('#view-attention').screenshot({ path: join(shots, 'learner-stage-0.png') });
    await page.click('#stepper button[data-stage="1"]');
    await page.waitForSelector('.attention[data-stage="1"]');
    expect(await page.inputValue('#layer-select')).toBe('1');
    expect(await page.textContent('#stepper button[data-stage="1"]')).toBe('2 · layer 1: the coref head points to “animal”');
    expect(await page.locator('.swatch[aria-pressed="true"]').count()).toBe(1); // the coref head alone
    expect(await page.textContent('#pointer-why')).toContain('Only the row of “it” was ever trained');
    await page.locator('#view-attention').screenshot({ path: join(shots, 'learner-stage-1.png') });
  });

  it('puts the formula beside the picture, and x·W_Q … Concat·W_O with the model\'s numbers one click away', async () => {
    await typeText(SEED);
    await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-referent') === 'animal');
    expect(await page.textContent('#formula .formula-title')).toContain('Attention(Q, K, V) = softmax(QKᵀ / √d_k) V');
    expect(await page.textContent('#negative-note')).toMatch(/^The winning score for “animal” is negative \(q·k = −[\d.]+, −[\d.]+ after ÷ √d_k\) and still wins/);
    await page.click('#formula-more');
    await page.waitForSelector('#view-arithmetic:not([hidden]) #arith-concat');
    const errs = await page.$$eval('#arith-projections li[data-max-err], #arith-concat[data-max-err]', (els) => els.map((e) => Number((e as HTMLElement).dataset.maxErr)));
    expect(errs).toHaveLength(4); // q, k, v, and the heads through W_O
    for (const e of errs) expect(e).toBeLessThan(1e-4);
    expect(await page.textContent('#arith-projections')).toContain('q = x · W_Q + b_Q');
    await page.locator('#view-arithmetic').screenshot({ path: join(shots, 'learner-arithmetic.png') });
  });

  it('works from the keyboard: word buttons, head toggles that keep focus, tabs with arrow keys', async () => {
    await view('attention');
    await page.focus('#attention-words button[data-index="5"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#attention-sentence[data-selected="5"]');
    await page.focus('.swatch[data-head="1"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.swatch[data-head="1"][aria-pressed]');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.head)).toBe('1');
    await page.focus('nav.tabs button[data-view="attention"]');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#view-arithmetic:not([hidden])');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-arithmetic');
    expect(await page.getAttribute('#tab-arithmetic', 'tabindex')).toBe('0');
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector('#view-attention:not([hidden])');
    // In the two columns, a focused word button leaves only that word's lines.
    await page.click('#layout-columns');
    await page.waitForSelector('#attention-lines:visible');
    const all = Number(await page.getAttribute('#attention-lines', 'data-lines'));
    await page.focus('#attention-words button[data-index="7"]');
    await page.waitForFunction((n) => Number(document.querySelector('#attention-lines')!.getAttribute('data-lines')) < n, all);
    await page.click('#layout-sentence');
    await page.waitForSelector('#attention-sentence:visible');
  });

  it('flags a dates answer that is not a date, and an input outside the trained formats', async () => {
    await view('encdec');
    await page.waitForSelector('#dates-result[data-valid]', { timeout: 240_000 });
    expect(await page.getAttribute('#dates-result', 'data-trained')).toBe('true'); // its default, "Friday, November 27th 2026"
    await page.fill('#dates-input', 'next tuesday');
    await page.click('#dates-run');
    await page.waitForSelector('#dates-outside');
    expect(await page.textContent('#dates-outside')).toBe('“next tuesday” is not written in any of the ten formats the model was trained on: its answer is a guess.');
    const iso = (await page.getAttribute('#dates-result', 'data-iso'))!;
    if (!/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(iso)) expect(await page.getAttribute('#dates-result', 'data-valid')).toBe('false');
  });

  it('generates one token at a time, with the ten most likely sorted at every step', async () => {
    await page.evaluate(() => { document.querySelector<HTMLInputElement>('#gen-max')!.value = '40'; });
    await view('generate');
    await page.waitForSelector('#gen-output[data-done="true"]', { timeout: 360_000 }); // its default prompt, on arrival
    const sorted = async () => {
      const values = JSON.parse((await page.getAttribute('#gen-bars', 'data-values'))!) as number[];
      expect(values.length).toBeGreaterThan(0);
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(values.every((p) => p >= 0.0005)).toBe(true); // no row that reads 0.000
    };
    await sorted();
    for (let n = 1; n <= 5; n++) {
      await page.click('#gen-step');
      await page.waitForSelector(`#gen-output[data-tokens="${n}"]`);
      await sorted();
      expect(await page.locator('#gen-bars .bar-row.chosen').count()).toBe(1);
    }
    // Any step's bars come back from the slider.
    await page.fill('#gen-step-view', '2');
    await page.waitForFunction(() => document.querySelector('#gen-step-label')?.textContent?.startsWith('2 of 5'));
    await sorted();
    await page.locator('#view-generate').screenshot({ path: join(shots, 'learner-generate-step.png') });
  }, 480_000);

  it('has no serious or critical axe-core violation on any view', async () => {
    await page.addScriptTag({ path: AXE });
    const found: Record<string, string[]> = {};
    for (const name of VIEWS) {
      await view(name);
      if (name === 'generate') await page.waitForSelector('#gen-bars .bar-row', { timeout: 360_000 }); // its bars drawn
      const violations = await page.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
      });
      if (violations.length) found[name] = violations;
    }
    expect(found).toEqual({});
  }, 600_000);

  it('has no horizontal overflow at 390 px on any view', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const wide: Record<string, number> = {};
    try {
      for (const name of VIEWS) {
        await view(name);
        await page.evaluate(() => new Promise(requestAnimationFrame));
        await page.evaluate(() => window.dispatchEvent(new Event('resize')));
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 390) wide[name] = width;
        if (name === 'attention') await page.screenshot({ path: join(shots, 'learner-phone.png'), fullPage: true });
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    expect(wide).toEqual({});
  });

  it('loads "GPT-2 small from Hugging Face" through resolve/main/ URLs (from a local mirror), after a size warning', async () => {
    await initBackend({ prefer: 'cpu' }); // in Node, for @tx/core's safetensors writer
    const root = mkdtempSync(join(tmpdir(), 'tx-hub-'));
    const folder = join(root, 'openai-community', 'gpt2', 'resolve', 'main');
    const files = await writeHuggingFaceFixture(folder); // the Hub's layout: <repo>/resolve/main/<file>
    const mirror = await serve(root); // another origin, as the Hub is
    try {
      await site.load(`view=attention&hub=${encodeURIComponent(mirror.url)}`, { timeout: 360_000 });
      await page.click('#hub-gpt2');
      expect(await page.textContent('#hub-gpt2-warning')).toBe('Downloads about 550 MB (model.safetensors, 124M parameters in F32) into this tab. ');
      expect(await page.getAttribute('.loading', 'data-state')).toBeNull(); // nothing read before the second click
      await page.click('#hub-gpt2');
      await page.waitForSelector(`#model-select option[value="${NAME}"]`, { state: 'attached', timeout: 240_000 });
      const total = String(['config.json', 'model.safetensors', 'tokenizer.json'].reduce((sum, f) => sum + statSync(files[f]).size, 0));
      expect([await page.getAttribute('#load-progress', 'data-loaded'), await page.getAttribute('#load-progress', 'data-total')]).toEqual([total, total]);
      expect(await page.getAttribute('.loading', 'data-state')).toBe('done');
      await page.waitForFunction((name) => document.querySelector('#model-line-attention')?.textContent === `Model: ${name}`, NAME);
    } finally {
      await mirror.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);

  it('logged no errors', () => {
    expect(site.errors).toEqual([]);
  });
});
