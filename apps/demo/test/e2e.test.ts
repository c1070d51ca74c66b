// End to end: the built site in Debian's Chromium (headless, WebGPU on),
// driven by playwright-core, served from 127.0.0.1 (test/site.js, shared with
// the benchmark). Screenshots of every view go to apps/demo/screenshots/
// (git-ignored); hf-1024.png is a Hugging Face GPT-2 folder (made at test
// time by test/hf-fixture.ts) at 1,024 tokens. Skipped, with a message, where /usr/bin/chromium is missing,
// except in CI (CI=true), where that is a failure: CI installs it with
// `npm run setup` and must run these tests.
//
// These tests check values, never wall time: how fast 300 tokens are
// inspected and drawn is measured by `pnpm --filter @tx/demo bench`. Every
// wait is for a state of the page, and every timeout is sized for WebGPU on
// SwiftShader on a loaded 2-core machine (about 4x what an idle one needs):
// playwright's waits 120 s, vitest's tests and hooks 480 s (vitest.config.ts),
// longer where a test inspects 300 tokens, trains or generates.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { initBackend } from '@tx/core';
import { LONG_STORY, NAME, writeHuggingFaceFixture } from './hf-fixture.js';
import { CHROMIUM, DEMO, DIST, LONG_TEXT, openSite, serve, type Site } from './site.js';

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

/**
 * In the page (passed to page.evaluate, so it closes over nothing): train a
 * small GPT for `steps` steps with @tx's kernels on or off on `threads`
 * threads, from the same weights and batch (ids i·7 mod 20, each target the
 * next): the losses, the first gradient norm and what the kernels said.
 */
async function trainInPage({ on, threads, batchSize, blockSize, nEmbd, nHead, steps }: { on: boolean; threads: number; batchSize: number; blockSize: number; nEmbd: number; nHead: number; steps: number }) {
  const tx = (globalThis as any).tx;
  await tx.useKernels(on, { threads });
  const model = new tx.GPT({ vocabSize: 20, blockSize, nLayer: 2, nHead, nEmbd, dropout: 0, bias: true });
  const optimizer = new tx.AdamW(model.namedParameters(), { lr: 1e-3 });
  const update = tx.trainStep({ model, optimizer, gradClip: 1, loss: (b: unknown) => tx.languageModelLoss(model, b) });
  const n = batchSize * blockSize;
  const batch = { x: Int32Array.from({ length: n }, (_, i) => (i * 7) % 20), y: Int32Array.from({ length: n }, (_, i) => (i * 7 + 1) % 20), batchSize, blockSize };
  const losses: number[] = [];
  let norm = NaN;
  for (let i = 0; i < steps; i++) {
    const r = await update([batch], 1e-3);
    losses.push(r.loss);
    if (i === 0) norm = r.gradNorm;
  }
  model.dispose();
  optimizer.dispose();
  return { losses, norm, info: tx.kernelsInfo() };
}

describe.skipIf(!haveChromium)('the demo site in Chromium', () => {
  let site: Site;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    site = await openSite(); // launching: at most 180 s
    page = site.page;
    await site.load('backend=webgpu&view=attention&iters=40', { timeout: 360_000 }); // WebGPU on purpose: on SwiftShader the site would pick wasm by itself
  }, 600_000);

  afterAll(async () => {
    await site?.close();
  });

  const view = (name: string) => site.view(name);

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
    expect((await page.locator('#attention-lines').boundingBox())!.y).toBe(box.y); // the live line above took the hover's text without moving the canvas
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
    // x·W_Q, x·W_K, x·W_V and Concat(heads)·W_O from the GPT's own ln_1, c_attn and c_proj match its q, k, v and attention output.
    const errs = await page.$$eval('#arith-projections li[data-max-err], #arith-concat[data-max-err]', (els) => els.map((e) => Number((e as HTMLElement).dataset.maxErr)));
    expect(errs).toHaveLength(4);
    for (const e of errs) expect(e).toBeLessThan(1e-4);
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
    // The last step's bars: largest first, rows that would read 0.000 left out (often one token holds the mass after top-p).
    expect(await page.locator('#gen-bars .bar-row').count()).toBeGreaterThanOrEqual(1);
    const values = JSON.parse((await page.getAttribute('#gen-bars', 'data-values'))!) as number[];
    expect(values).toEqual([...values].sort((a, b) => b - a));
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

  describe('a Hugging Face GPT-2 folder (2 layers, 2 heads, context 1,024)', () => {
    let dir: string;
    let files: Record<string, string>;
    const bytes = (...names: string[]) => names.reduce((sum, n) => sum + statSync(files[n]).size, 0);
    /** The page's message, which must be one line. */
    const message = async () => {
      const text = (await page.textContent('#message')) ?? '';
      expect(text).not.toContain('\n');
      return text;
    };

    beforeAll(async () => {
      await initBackend({ prefer: 'cpu' }); // in Node, for @tx/core's safetensors writer
      dir = mkdtempSync(join(tmpdir(), 'tx-hf-'));
      files = await writeHuggingFaceFixture(join(dir, 'hf-1024'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('loads through the file picker and draws 1,024 tokens, reading one layer at a time', async () => {
      await view('attention');
      await page.setInputFiles('#model-files', [files['config.json'], files['model.safetensors'], files['tokenizer.json']]);
      await page.waitForSelector(`#model-select option[value="${NAME}"]`, { state: 'attached' });
      expect(await page.inputValue('#model-select')).toBe(NAME);
      expect(await page.getAttribute('.loading', 'data-state')).toBe('done');
      const total = String(bytes('config.json', 'model.safetensors', 'tokenizer.json'));
      expect([await page.getAttribute('#load-progress', 'data-loaded'), await page.getAttribute('#load-progress', 'data-total')]).toEqual([total, total]);

      await page.fill('#attention-text', LONG_STORY); // 1,386 tokens: the last 1,024 are read
      await page.click('#attention-run');
      await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('1024 tokens, 2 layers × 2 heads'), undefined, { timeout: 480_000 });
      expect(await page.textContent('.attention .info')).toContain('The text is 1386 tokens: the last 1024 are read.');
      expect(await page.getAttribute('.attention', 'data-layer')).toBe('0');
      expect(await page.getAttribute('.attention', 'data-weights-held')).toBe(String(2 * 1024 * 1024)); // one layer: 2 heads x 1,024²
      await page.waitForSelector('#attention-lines:visible');
      const lines = Number(await page.getAttribute('#attention-lines', 'data-lines'));
      expect(lines).toBeGreaterThan(1024); // a trained model: most queries have more than one key above 0.05
      expect(lines).toBeLessThanOrEqual(1024 * 3); // at most the 3 strongest keys of each query
      expect(await page.getAttribute('#attention-grid', 'data-cells')).toBe('4');
      expect(await page.getAttribute('#attention-grid', 'data-pooled')).toBe('16'); // 1,024 / 16 = 64 cells a side
      expect(Number(await page.getAttribute('#attention-matrix', 'data-pooled'))).toBeGreaterThan(1);

      // Another layer is read when picked, and still only one is held.
      await page.selectOption('#layer-select', '1');
      await page.waitForSelector('.attention[data-layer="1"]:not([data-reading])', { timeout: 480_000 });
      expect(await page.getAttribute('.attention', 'data-weights-held')).toBe(String(2 * 1024 * 1024));
      const lines1 = Number(await page.getAttribute('#attention-lines', 'data-lines'));
      expect(lines1).toBeGreaterThan(0);
      expect(lines1).toBeLessThanOrEqual(1024 * 3);
      // Hovering the first query leaves its one line (it attends only to itself): the first of 1,024 rows below an 8 px margin.
      await page.locator('#attention-lines').scrollIntoViewIfNeeded();
      const box = (await page.locator('#attention-lines').boundingBox())!;
      await page.mouse.move(box.x + 20, box.y + 8 + ((box.height - 16) * 0.5) / 1024);
      await page.waitForFunction(() => document.querySelector('#attention-lines')!.getAttribute('data-lines') === '1');
      await page.mouse.move(5, 5);
      await page.waitForFunction((n) => document.querySelector('#attention-lines')!.getAttribute('data-lines') === String(n), lines1);
      // Back to layer 0, read again, for the picture.
      await page.selectOption('#layer-select', '0');
      await page.waitForSelector('.attention[data-layer="0"]:not([data-reading])', { timeout: 480_000 });
      expect(Number(await page.getAttribute('#attention-lines', 'data-lines'))).toBe(lines);
      expect(await message()).toBe(`Model: ${NAME}.`);
      await page.locator('#view-attention').screenshot({ path: join(shots, 'hf-1024.png') });
    }, 1_200_000);

    it('loads by URL, streaming each file into the progress bar', async () => {
      const server = await serve(dir); // another origin, as a model host would be
      try {
        await page.fill('#model-url', `${server.url}hf-1024/`);
        await page.click('#model-url-load');
        await page.waitForSelector(`#model-select option[value="${NAME} (2)"]`, { state: 'attached', timeout: 240_000 });
        const total = String(bytes('config.json', 'model.safetensors', 'tokenizer.json'));
        expect([await page.getAttribute('#load-progress', 'data-loaded'), await page.getAttribute('#load-progress', 'data-total')]).toEqual([total, total]);
        expect(await page.textContent('#load-progress-text')).toMatch(/^done: [\d.]+ kB of [\d.]+ kB \(100%\)$/);
        await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('1024 tokens'), undefined, { timeout: 480_000 });
      } finally {
        await server.close();
      }
    }, 720_000);

    it('says in one line what is missing or unsupported, and keeps the model it had', async () => {
      const before = await page.inputValue('#model-select');
      await page.setInputFiles('#model-files', [files['config.json'], files['model.safetensors']]);
      await page.waitForSelector('.loading[data-state="failed"]');
      expect(await message()).toBe(`Not loaded: the picked files: missing the tokenizer: tokenizer.json, or vocab.json and merges.txt (found config.json, model.safetensors). Still showing ${before}.`);
      const falcon = join(dir, 'falcon', 'config.json'); // an architecture the site does not read (Llama-family folders load: test/llama.test.ts)
      mkdirSync(join(dir, 'falcon'), { recursive: true });
      writeFileSync(falcon, JSON.stringify({ architectures: ['FalconForCausalLM'], model_type: 'falcon' }));
      await page.evaluate(() => { document.querySelector('.loading')!.setAttribute('data-state', ''); });
      await page.setInputFiles('#model-files', [falcon, files['model.safetensors'], files['tokenizer.json']]);
      await page.waitForSelector('.loading[data-state="failed"]');
      expect(await message()).toBe(`Not loaded: the picked files/config.json: unsupported architecture "FalconForCausalLM" (model_type "falcon"): tx imports GPT-2 (model_type "gpt2"). Still showing ${before}.`);
      expect(await page.inputValue('#model-select')).toBe(before);
      expect(await page.getAttribute('#message', 'class')).toContain('error');
    });

    it('where the backend cannot hold the model, says so in one line and keeps the model it had', async () => {
      // A page that may use 8 MB: the built-ins load; this model would need about 40 MB at 1,024 tokens.
      await site.load('view=attention&memory=8MB', { timeout: 480_000 });
      expect(await page.inputValue('#model-select')).toBe('built-in: coref');
      await page.setInputFiles('#model-files', [files['config.json'], files['model.safetensors'], files['vocab.json'], files['merges.txt']]);
      await page.waitForSelector('.loading[data-state="failed"]');
      expect(await message()).toMatch(/^This backend cannot hold the picked model: it needs about [\d.]+ MB \(weights [\d.]+ kB, attention [\d.]+ MB\) beside the [\d.]+ (kB|MB) of the models already loaded, more than the 8\.0 MB of what this page may use \(\?memory=\)\. Still showing built-in: coref\.$/);
      expect(await page.getAttribute('#load-progress', 'data-loaded')).toBe(String(bytes('config.json'))); // the weights were never read
      expect(await page.locator(`#model-select option[value="${NAME}"]`).count()).toBe(0);
      expect(await page.inputValue('#model-select')).toBe('built-in: coref');
      // The model it had still answers.
      await page.fill('#attention-text', "The animal didn't cross the street because it was too wide.");
      await page.waitForFunction(() => document.querySelector('#coref-answer')?.getAttribute('data-tokens')?.endsWith('"wide","."]'));
      expect(await page.getAttribute('#coref-answer', 'data-referent')).toBe('street');
    }, 720_000);
  });

  it("trains one step on wasm with @tx's kernels, with the loss of tfjs's own kernels", async () => {
    const before = await page.evaluate(async () => {
      const tx = (globalThis as any).tx;
      const was = tx.tf.getBackend();
      await tx.initBackend({ prefer: 'wasm' });
      return was;
    });
    const small = { threads: 1, batchSize: 2, blockSize: 16, nEmbd: 32, nHead: 2, steps: 2 }; // the second step after one AdamW update
    const off = await page.evaluate(trainInPage, { ...small, on: false });
    const on = await page.evaluate(trainInPage, { ...small, on: true });
    await page.evaluate((name) => (globalThis as any).tx.initBackend({ prefer: name }), before);
    const result = { on: { ...on, first: on.losses[0], second: on.losses[1] }, off: { ...off, first: off.losses[0], second: off.losses[1] } };
    expect(result.on.info.active).toBe(true);
    expect(result.on.info.simd).toBe('relaxed-simd'); // Chromium has relaxed SIMD
    expect(result.off.info.active).toBe(false);
    expect(Math.abs(result.on.first - result.off.first)).toBeLessThan(1e-5);
    expect(Math.abs(result.on.second - result.off.second)).toBeLessThan(1e-4);
    expect(Math.abs(result.on.norm - result.off.norm)).toBeLessThan(1e-4);
  }, 300_000);

  it("splits products between threads on a cross-origin-isolated page, with one thread's bits", async () => {
    // The same site from a server that sends COOP and COEP (as vite.config.ts does): the page may share memory with
    // Web Workers, and the kernels' pool starts them (tfjs-wasm keeps its single-threaded build: see main.ts).
    const server = await serve(DIST, { isolated: true });
    const isolated = await site.context.newPage();
    const pageErrors: string[] = [];
    isolated.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    isolated.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await isolated.goto(`${server.url}?backend=wasm&view=attention&iters=40`, { timeout: 360_000 });
      await isolated.waitForSelector('body[data-ready="true"]', { timeout: 360_000 });
      const atStart = await isolated.evaluate(() => {
        const tx = (globalThis as any).tx;
        // Operands go to the pool's own shared memory unless tfjs-wasm's heap is shared.
        return { info: tx.kernelsInfo(), shared: tx.tf.backend().wasm.HEAPU8.buffer instanceof SharedArrayBuffer, isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency };
      });
      // Products of [256, 128] x [128, 512]: over the 1M multiply-adds that go to the pool.
      const big = { batchSize: 4, blockSize: 64, nEmbd: 128, nHead: 4, steps: 3 };
      const two = await isolated.evaluate(trainInPage, { ...big, on: true, threads: 2 });
      const one = await isolated.evaluate(trainInPage, { ...big, on: true, threads: 1 });
      const off = await isolated.evaluate(trainInPage, { ...big, on: false, threads: 1 });
      await isolated.evaluate((threads) => (globalThis as any).tx.useKernels(true, { threads }), atStart.info.threads);
      const result = { ...atStart, atStart: atStart.info, two: { ...two, threads: two.info.threads }, one, off };
      expect(result.isolated).toBe(true);
      expect(result.shared).toBe(false); // operands go to the pool's own shared memory and back
      expect(result.atStart.active).toBe(true);
      expect(result.atStart.threads).toBe(Math.min(4, result.cores)); // main.ts asks for the cores, at most 4
      expect(result.two.threads).toBe(2);
      expect(result.two.losses).toEqual(result.one.losses); // bit for bit
      result.two.losses.forEach((loss: number, i: number) => expect(Math.abs(loss - result.off.losses[i]), `step ${i}`).toBeLessThan(1e-4));
      expect(pageErrors).toEqual([]);
    } finally {
      await isolated.close();
      await server.close();
    }
  }, 600_000);

  it('logged no console errors', () => {
    expect(site.errors).toEqual([]);
  });
});
