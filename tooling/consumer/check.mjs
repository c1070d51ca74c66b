// The consumer check: @tx as a user gets it from npm, not as the workspace
// links it. Run after `pnpm build`:  node tooling/consumer/check.mjs
//
// 1. pack every public package (pnpm pack rewrites workspace: ranges) and run
//    attw (are-the-types-wrong, ESM-only profile) on each tarball;
// 2. npm-install @tx/core + @tx/attention alone into a throwaway project
//    outside the workspace: its size, and no tfjs union, webgl or Dawn in it;
// 3. npm-install every tarball into another throwaway project and run, in
//    Node: @tx/attention alone, a GPT forward from @tx/blocks, 20 training
//    steps from @tx/train, and the tx binary (--version, help, one line on
//    stderr for a missing checkpoint); stderr must stay empty; then a strict
//    TypeScript program (fixtures/loader.mts, compiled with tsc --strict)
//    loads a checkpoint that the installed `tx train` wrote with @tx/train's
//    one-call loader, generates, and streams with and without a tokenizer;
// 4. a Vite build of a tiny page importing @tx/attention, opened in Chromium;
// 5. `pnpm publish -r --dry-run` names every public package and no other;
// 6. `changeset version`, in a throwaway copy of the repository, bumps every
//    package that has changesets, writes their CHANGELOGs, and consumes them.
// Each step prints what it found; any failure exits 1 with the reason.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const HERE = import.meta.dirname;
const CHROMIUM = process.env.TX_CHROMIUM ?? '/usr/bin/chromium';
const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
/** `npm install @tx/attention` may weigh at most this (bytes of files, as `du -sb`): tfjs-core, -cpu and -wasm alone are 61 MB. */
const INSTALL_LIMIT = 64 * 2 ** 20;
const started = Date.now();
let failures = 0;

const say = (line) => console.log(line);
const ok = (line) => say(`  ok   ${line}`);
const bad = (line) => {
  failures++;
  say(`  FAIL ${line}`);
};
const check = (cond, line, detail = '') => (cond ? ok(line) : bad(`${line}${detail ? `: ${detail}` : ''}`));
const section = (title) => say(`\n== ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

/** Run a command; its output is returned, not shown. Throws (with the output) if it fails to start or exits non-zero, unless `allowFail`. */
function run(cmd, args, { cwd = ROOT, allowFail = false, env = process.env, timeout = 600_000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
const duBytes = (dir) => Number(run('du', ['-sb', dir]).stdout.split('\t')[0]);
const duDisk = (dir) => run('du', ['-sh', dir]).stdout.split('\t')[0];
const lastJson = (stdout) => JSON.parse(stdout.trim().split('\n').at(-1));

// ---- 1. pack, attw -------------------------------------------------------------
section('1. pack every public package; attw on each tarball');
const packages = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(ROOT, group)).map((d) => join(ROOT, group, d)))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter((p) => p.json.private !== true);
const work = mkdtempSync(join(tmpdir(), 'tx-consumer-'));
if (relative(ROOT, work).split(/[\\/]/)[0] !== '..') throw new Error(`${work} is inside the workspace`);
const tarballDir = join(work, 'tarballs');
mkdirSync(tarballDir);
const tarballs = {};
for (const p of packages) {
  if (!existsSync(join(p.dir, 'dist'))) throw new Error(`${p.json.name} has no dist/: run pnpm build first`);
  const out = run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: p.dir }).stdout.trim().split('\n').at(-1);
  tarballs[p.json.name] = out;
  const packed = JSON.parse(run('tar', ['-xzOf', out, 'package/package.json']).stdout);
  const ranges = Object.entries({ ...packed.dependencies, ...packed.peerDependencies }).filter(([, v]) => String(v).startsWith('workspace:'));
  check(ranges.length === 0, `${p.json.name}: ${relative(work, out)} (${(statSync(out).size / 1024).toFixed(0)} kB), no workspace: ranges`, ranges.map(([k]) => k).join(', '));
}
const attw = join(HERE, 'node_modules/.bin/attw');
for (const [name, file] of Object.entries(tarballs)) {
  // ESM-only packages: attw's esm-only profile checks node16 (from ESM) and bundler resolution.
  const r = run(attw, [file, '--profile', 'esm-only', '--no-color', '--no-emoji', '--format', 'table-flipped'], { allowFail: true });
  check(r.status === 0, `attw ${name}`, `\n${r.stdout}${r.stderr}`);
}

// ---- 2. install weight -----------------------------------------------------------
section('2. npm install @tx/attention alone: its weight');
const alone = join(work, 'attention-only');
mkdirSync(alone);
writeFileSync(join(alone, 'package.json'), JSON.stringify({ name: 'attention-only', private: true, type: 'module' }));
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarballs['@tx/core'], tarballs['@tx/attention']], { cwd: alone });
const aloneBytes = duBytes(join(alone, 'node_modules'));
const heavy = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-layers'].filter((n) => existsSync(join(alone, 'node_modules', n)));
say(`  node_modules: ${mb(aloneBytes)} in files (du -sb), ${duDisk(join(alone, 'node_modules'))} on disk (du -sh)`);
for (const n of readdirSync(join(alone, 'node_modules/@tensorflow'))) say(`    @tensorflow/${n}: ${mb(duBytes(join(alone, 'node_modules/@tensorflow', n)))}`);
check(aloneBytes <= INSTALL_LIMIT, `at most ${mb(INSTALL_LIMIT)}`, mb(aloneBytes));
check(heavy.length === 0, 'no @tensorflow/tfjs union, webgl, webgpu backend or Dawn installed', heavy.join(', '));

// ---- 3. Node ---------------------------------------------------------------------
section('3. every tarball installed outside the workspace; used from Node');
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tx-consumer', private: true, type: 'module' }));
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...Object.values(tarballs)], { cwd: app });
say(`  installed ${Object.keys(tarballs).join(', ')} into ${app}`);
for (const f of ['attention.mjs', 'gpt.mjs', 'train.mjs']) cpSync(join(HERE, 'fixtures', f), join(app, f));
const node = (file, ...args) => {
  const r = run(process.execPath, [file, ...args], { cwd: app, allowFail: true });
  if (r.status !== 0) {
    bad(`node ${file} exited ${r.status}: ${r.stderr.trim()}`);
    return null;
  }
  check(r.stderr === '', `node ${file}: nothing on stderr`, JSON.stringify(r.stderr));
  return lastJson(r.stdout);
};

const att = node('attention.mjs');
if (att) {
  say(`  attention.mjs: ${JSON.stringify(att)}`);
  check(att.backend === 'wasm' && att.fellBackFrom === 'webgpu', `@tx/attention alone runs on wasm (auto)`, att.backend);
  check(/^WebGPU in Node needs the optional packages webgpu and @tensorflow\/tfjs-backend-webgpu: npm install webgpu@0\.6 @tensorflow\/tfjs-backend-webgpu@4\.22\.0$/.test(att.reason ?? ''), 'initBackend names the missing optional packages and the command that installs them', att.reason);
  check(att.maxDiff < 1e-6, 'softmax(QKᵀ/√d)V with a causal mask equals the formula in plain JavaScript', `max difference ${att.maxDiff}`);
  check(JSON.stringify(att.weightsShape) === '[1,1,3,3]', 'attention weights [1, 1, 3, 3]', JSON.stringify(att.weightsShape));
}
const gpt = node('gpt.mjs');
if (gpt) {
  say(`  gpt.mjs: ${JSON.stringify(gpt)}`);
  check(JSON.stringify(gpt.shape) === '[1,6,11]' && gpt.finite, 'GPT forward: logits [1, 6, 11], all finite', JSON.stringify(gpt.shape));
  // wte 11x16 + wpe 8x16 + 2 x (ln_1 32 + c_attn 16x48+48 + c_proj 16x16+16 + ln_2 32 + c_fc 16x64+64 + c_proj 64x16+16) + ln_f 32
  check(gpt.parameters === 6896, "nanoGPT's parameter count, 6,896", gpt.parameters);
  check(gpt.wasmVsCpu < 1e-4, 'the same logits on wasm and cpu', `max difference ${gpt.wasmVsCpu}`);
  check(Math.abs(gpt.loss - gpt.lnV) < 0.1, 'an untrained model predicts about uniformly: loss ≈ ln 11', `${gpt.loss} vs ${gpt.lnV}`);
}
const tr = node('train.mjs');
if (tr) {
  say(`  train.mjs: ${JSON.stringify(tr)}`);
  check(tr.steps === 20 && Math.abs(tr.first - Math.log(11)) < 0.15, '20 steps from a loss of about ln 11', tr.first);
  check(tr.last < 0.6 * tr.first, 'the loss falls by 40% or more in 20 steps (counting modulo 11 is learnable)', `${tr.first} -> ${tr.last}`);
  check(tr.leaked === 0, 'no tensor leaked by the steps', tr.leaked);
}
const tx = (...args) => run(join(app, 'node_modules/.bin/tx'), args, { cwd: app, allowFail: true });
const version = tx('--version');
check(version.status === 0 && version.stdout === `${JSON.parse(readFileSync(join(ROOT, 'apps/trainer/package.json'), 'utf8')).version}\n` && version.stderr === '', `tx --version: ${version.stdout.trim()}`);
const helpRun = tx('sample', '--help');
check(helpRun.status === 0 && /^tx sample: /.test(helpRun.stdout) && helpRun.stdout.includes('--checkpoint DIR'), 'tx sample --help');
const missing = tx('sample', '--checkpoint', 'nope');
check(missing.status === 2 && missing.stderr === 'tx: no checkpoint at nope: the folder does not exist\n', 'tx sample --checkpoint nope: exit 2, one line on stderr', JSON.stringify(missing.stderr));

// The one-call loader, from strict TypeScript, on a checkpoint the installed tx wrote.
const trained = tx('train', '--task', 'names', '--max-iters', '20', '--eval-interval', '20', '--out', join(app, 'runs/names'), '--json');
check(trained.status === 0, 'tx train --task names --max-iters 20 writes a checkpoint', trained.stderr.trim());
cpSync(join(HERE, 'fixtures/loader.mts'), join(app, 'loader.mts'));
writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['loader.mts'] }));
const tsc = run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(app, 'tsconfig.json')], { cwd: app, allowFail: true });
check(tsc.status === 0, 'loader.mts compiles under tsc --strict against the installed packages', `${tsc.stdout}${tsc.stderr}`.trim());
const loader = tsc.status === 0 ? node('loader.mjs', join(app, 'runs/names')) : null;
if (loader) {
  say(`  loader.mjs: ${JSON.stringify(loader)}`);
  check(loader.kind === 'gpt' && loader.task === 'names', 'loadModel(dir) gives the GPT of the names task', `${loader.kind} ${loader.task}`);
  check(loader.names.length === 3 && loader.names.every((n) => typeof n === 'string' && !n.includes('\n')), 'three samples, each one line (the names task stops at a newline)', JSON.stringify(loader.names));
  check(loader.streamedText.length > 0 && loader.streamedText.every((t) => typeof t === 'string'), 'streamed with a tokenizer: every token has its text');
  check(loader.sameIds && !loader.idsOnlyHaveText, 'streamed without a tokenizer: the same ids, and no text field', JSON.stringify(loader));
  check(loader.leaked === 0, 'no tensor leaked by generating', loader.leaked);
}

// ---- 4. browser ------------------------------------------------------------------
section('4. a Vite build of a page importing @tx/attention, opened in Chromium');
const web = join(app, 'web');
cpSync(join(HERE, 'fixtures/web'), web, { recursive: true });
const { build, createLogger } = await import('vite');
const logger = createLogger('warn');
const warnings = [];
logger.warn = (msg) => warnings.push(msg);
logger.warnOnce = (msg) => warnings.push(msg);
await build({ root: web, logLevel: 'warn', customLogger: logger, build: { outDir: join(web, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 } });
const assets = readdirSync(join(web, 'dist/assets'));
const jsFiles = assets.filter((f) => f.endsWith('.js'));
const js = jsFiles.map((f) => readFileSync(join(web, 'dist/assets', f), 'utf8')).join('\n');
for (const f of assets) say(`  dist/assets/${f}: ${(statSync(join(web, 'dist/assets', f)).size / 1024).toFixed(1)} kB`);
check(warnings.length === 0, 'Vite builds it without a warning', warnings.join(' | '));
check(!/MathBackendWebGL|WebGPUBackend|dawn\.node/.test(js), 'the bundle holds no webgl or webgpu backend and no Dawn');
check(!/node:(fs|os|child_process|module)/.test(js), 'the bundle imports no Node built-in');
if (!existsSync(CHROMIUM)) {
  (CI ? bad : say)(`${CI ? '' : '  skip '}${CHROMIUM} not found (Debian's chromium: npm run setup installs it)`);
} else {
  const server = await serve(join(web, 'dist'));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'], timeout: 180_000 });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url, { timeout: 120_000 });
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.__result);
    say(`  page: ${JSON.stringify(result)}`);
    check(!result.error, 'the page ran', result.error);
    check(result.backend === 'wasm', 'initBackend() in the page: wasm (the page imported no WebGPU backend)', `${result.backend}: ${result.reason}`);
    check(att && result.output?.every((v, i) => Math.abs(v - att.output[i]) < 1e-5), 'the same attention output as in Node', JSON.stringify(result.output));
    check(result.gradFinite === true, 'gradients work in the browser build');
    check(errors.length === 0, 'no error in the console', errors.join(' | '));
  } finally {
    await browser.close();
    await server.close();
  }
}

// ---- 5. publish dry-run -----------------------------------------------------------
section('5. pnpm publish -r --dry-run');
const publish = run('pnpm', ['publish', '-r', '--dry-run', '--no-git-checks']);
const published = [...`${publish.stdout}\n${publish.stderr}`.matchAll(/📦 (@tx\/[\w-]+)@([\w.-]+)/g)].map((m) => `${m[1]}@${m[2]}`);
say(`  would publish: ${published.join(', ')}`);
const expected = packages.map((p) => `${p.json.name}@${p.json.version}`);
check(published.length === expected.length && expected.every((e) => published.includes(e)), 'exactly the public packages, at their versions', `expected ${expected.join(', ')}`);

// ---- 6. changeset version ---------------------------------------------------------
section('6. changeset version, in a throwaway copy of the repository');
const copy = join(work, 'repo');
const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z']).stdout.split('\0').filter(Boolean);
for (const f of files) {
  if (!existsSync(join(ROOT, f))) continue; // deleted, not yet committed
  mkdirSync(dirname(join(copy, f)), { recursive: true });
  cpSync(join(ROOT, f), join(copy, f));
}
const pending = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
/** The packages a changeset names in its front matter ("@tx/core": minor). */
const named = new Set(pending.flatMap((f) => [...(readFileSync(join(copy, '.changeset', f), 'utf8').split('---')[1] ?? '').matchAll(/["']?(@[\w-]+\/[\w-]+|[\w-]+)["']?\s*:\s*(major|minor|patch)/g)].map((m) => m[1])));
const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const changeset = run(process.execPath, [join(ROOT, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: copy });
say(`  ${pending.length} pending changesets name ${[...named].sort().join(', ') || 'no package'}; ${changeset.stdout.trim().split('\n').at(-1)}`);
const left = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
check(left.length === 0, `all ${pending.length} changesets consumed`, left.join(', '));
for (const p of packages) {
  const dir = join(copy, relative(ROOT, p.dir));
  const now = versionOf(dir);
  const log = existsSync(join(dir, 'CHANGELOG.md')) ? readFileSync(join(dir, 'CHANGELOG.md'), 'utf8') : '';
  if (named.has(p.json.name)) check(now !== p.json.version && log.includes(`## ${now}`), `${p.json.name}: ${p.json.version} -> ${now}, CHANGELOG.md has ## ${now}`);
  else say(`  ${p.json.name}: no changeset of its own; ${p.json.version} -> ${now}`);
}
for (const d of ['apps/demo', 'tooling/bench', 'tooling/config', 'tooling/consumer']) {
  if (existsSync(join(copy, d, 'package.json'))) check(versionOf(join(copy, d)) === '0.0.0', `${d} (private) keeps its version`);
}

rmSync(work, { recursive: true, force: true });
say(`\nconsumer check: ${failures === 0 ? 'all passed' : `${failures} failed`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failures === 0 ? 0 : 1);

/** Serve a folder on a free port of 127.0.0.1. */
async function serve(root) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
  const server = createServer(async (req, res) => {
    const file = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const path = statSync(file).isDirectory() ? join(file, 'index.html') : file;
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(await readFile(path));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((done) => server.close(() => done())) };
}
