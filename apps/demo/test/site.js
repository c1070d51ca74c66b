// The built site in Debian's Chromium, for the browser tests (test/e2e.test.ts)
// and the benchmark (bench/long-text.mjs): a tiny static server for dist/ on
// 127.0.0.1 (no dependencies), and Chromium driven by playwright-core with a
// fresh profile and WebGPU on. Plain JavaScript (types in site.d.ts) so that
// Node runs the benchmark without a build step.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';

export const DEMO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(DEMO, 'dist');
export const CHROMIUM = process.env.TX_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'];

/** 300 characters of Hamlet, every one known to the built-in Shakespeare model: 300 tokens. */
export const LONG_TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer the slings and arrows of outrageous fortune, or to take arms against a sea of troubles and by opposing end them. To die, to sleep, no more; and by a sleep to say we end the heart-ache and the thousand natural shocks.';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.safetensors': 'application/octet-stream', '.svg': 'image/svg+xml', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
};

/** Cross-origin isolation, as vite.config.ts sends it (and CORP, so that an isolated page may also load from this server as another origin). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'cross-origin' };

/** Serve `root` on a free port of 127.0.0.1; `isolated` adds the cross-origin-isolation headers (threads for the kernels). */
export async function serve(root, { isolated = false } = {}) {
  const extra = isolated ? ISOLATION : {};
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(base, path));
    if (!file.startsWith(base)) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      // Any origin may fetch: the browser tests serve a model folder beside the site (a model by URL).
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store', 'access-control-allow-origin': '*', ...extra }).end(body);
    } catch {
      res.writeHead(404, { 'access-control-allow-origin': '*', ...extra }).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

/**
 * Serve the already built dist/ (this builds nothing) and open Chromium on a
 * blank page with a fresh profile. Load the site with `site.load(query)`.
 */
export async function openSite({ dist = DIST, executablePath = CHROMIUM, timeout = 180_000 } = {}) {
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dist} has no index.html: run \`pnpm --filter @tx/demo build\` first`);
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found (install Debian's chromium with \`npm run setup\`, or set TX_CHROMIUM)`);
  const server = await serve(dist);
  const profile = mkdtempSync(join(tmpdir(), 'tx-demo-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: false, // CHROMIUM_ARGS ask for the new headless mode explicitly
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout,
    });
  } catch (err) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(120_000); // a loaded 2-core machine running SwiftShader
  // The page's errors, each with the test that was running (every suite ends by expecting none).
  const errors = [];
  const during = () => expect.getState().currentTestName ?? 'load';
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${during()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${during()}: ${String(e)}`));
  return {
    url: server.url,
    context,
    page,
    errors,
    /** Open one of the site's views by its tab. */
    async view(name) {
      await page.click(`nav.tabs button[data-view="${name}"]`);
      await page.waitForSelector(`#view-${name}:not([hidden])`);
    },
    /** Go to the site with these URL parameters and wait until the first text is inspected and drawn. */
    async load(query = '', { timeout: readyTimeout = 360_000 } = {}) {
      await page.goto(`${server.url}${query ? `?${query}` : ''}`, { timeout: readyTimeout });
      await page.waitForSelector('body[data-ready="true"]', { timeout: readyTimeout });
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
