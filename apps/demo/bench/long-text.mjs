// How fast the attention view takes a 300-character text (300 tokens of the
// built-in Shakespeare GPT, picked in the model menu, read with a sliding window) in Chromium, on the
// backend the page picks (WebGPU on a GPU; wasm where the only adapter is SwiftShader):
//   - inspect + draw: from a click on "Show attention" to the next animation
//     frame after the lines, the matrix and the grid are drawn;
//   - hover redraw: from a mousemove onto another token to its lines drawn.
// Medians of several runs after a warm-up, timed in the page. The browser
// tests check the values; this is where the speed is measured. It builds
// nothing: it serves the already built dist/ (turbo's bench task depends on
// build). Run: pnpm --filter @tx/demo bench [--backend webgpu|webgl|wasm|cpu] [--runs N (default 3)] [--json]
import { LONG_TEXT, openSite } from '../test/site.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const prefer = arg('backend', 'auto');
const runs = Number(arg('runs', '3'));
const hovers = 20;

const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1), runs: sorted.length };
};

const site = await openSite();
try {
  const { page } = site;
  page.setDefaultTimeout(600_000);
  await site.load(`view=attention${prefer === 'auto' ? '' : `&backend=${prefer}`}`, { timeout: 600_000 });
  const backend = await page.getAttribute('#backend', 'data-backend');
  // The view opens with the coref encoder (words); the long text is for the character GPT.
  await page.waitForSelector('#model-select option[value="built-in: shakespeare"]', { state: 'attached' });
  await page.selectOption('#model-select', 'built-in: shakespeare');
  await page.waitForFunction(() => document.querySelector('.attention .info')?.textContent?.startsWith('60 tokens'));
  await page.fill('#attention-text', LONG_TEXT);
  await page.waitForFunction((n) => document.querySelector('.attention .info')?.textContent?.startsWith(`${n} tokens`), LONG_TEXT.length);

  // One click on "Show attention", timed in the page until the frame after the drawing.
  const inspectAndDraw = () => page.evaluate(() => new Promise((done, fail) => {
    setTimeout(() => fail(new Error('the 300-token text was not drawn within 600 s')), 600_000);
    const canvas = document.querySelector('#attention-lines');
    const t0 = performance.now();
    const drawn = new MutationObserver(() => {
      drawn.disconnect();
      requestAnimationFrame(() => done({ ms: performance.now() - t0, tokens: Number.parseInt(document.querySelector('.attention .info').textContent, 10), lines: Number(canvas.dataset.lines) }));
    });
    drawn.observe(canvas, { attributes: true, attributeFilter: ['data-lines'] });
    document.querySelector('#attention-run').click();
  }));
  // Hover the left-hand (query) token `token`: the view redraws its lines on the next frame.
  const hover = (token) => page.evaluate((token) => new Promise((done, fail) => {
    setTimeout(() => fail(new Error(`hovering token ${token} drew nothing within 120 s`)), 120_000);
    const canvas = document.querySelector('#attention-lines');
    const box = canvas.getBoundingClientRect();
    const t0 = performance.now();
    const drawn = new MutationObserver(() => { drawn.disconnect(); done(performance.now() - t0); });
    drawn.observe(canvas, { attributes: true, attributeFilter: ['data-lines'] });
    canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + 20, clientY: box.top + 8 + ((box.height - 16) * (token + 0.5)) / 300 }));
  }), token);

  const first = await inspectAndDraw(); // warm-up: the first 300-token forward passes compile their kernels
  if (first.tokens !== LONG_TEXT.length || !(first.lines > 0)) throw new Error(`expected ${LONG_TEXT.length} tokens and some lines, found ${first.tokens} tokens and ${first.lines} lines`);
  const inspectTimes = [];
  for (let i = 0; i < runs; i++) inspectTimes.push((await inspectAndDraw()).ms);
  await hover(5); // warm-up
  const hoverTimes = [];
  for (let i = 0; i < hovers; i++) hoverTimes.push(await hover(10 + ((i * 29) % 290)));

  const rows = [
    { measure: 'inspect + draw (click to the next frame)', ...stats(inspectTimes) },
    { measure: 'hover redraw (mousemove to lines drawn)', ...stats(hoverTimes) },
  ];
  const chromium = site.context.browser()?.version() ?? 'unknown';
  if (process.argv.includes('--json')) {
    for (const row of rows) console.log(JSON.stringify({ bench: 'demo long text', backend, tokens: first.tokens, lines: first.lines, chromium, ...row }));
  } else {
    console.log(`\n## demo: a ${first.tokens}-token text in the attention view (backend ${backend}, Chromium ${chromium}, ${first.lines} lines)\n`);
    for (const r of rows) console.log(`${r.measure}: median ${r.median.toFixed(1)} ms (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}; ${r.runs} runs after a warm-up)`);
  }
} finally {
  await site.close();
}
