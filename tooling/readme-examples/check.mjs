// Every ```ts and ```js block in a published package's README is a program a
// consumer would paste: extract each into blocks/<package>-<n>.ts (or .js) and
// compile them all with strict TypeScript (checkJs for JavaScript) against the
// built packages: their dist/ types, as npm users get them. A block that lists
// signatures rather than a program is fenced ```ts signatures and skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const out = join(here, 'blocks');
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

const sources = []; // [generated file, README, line]
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const readme = join(root, 'packages', pkg, 'README.md');
  if (!existsSync(readme)) continue;
  const lines = readFileSync(readme, 'utf8').split('\n');
  let block = null;
  lines.forEach((line, i) => {
    const open = /^```(ts|js)\s*$/.exec(line);
    if (block === null && open) block = { start: i + 1, ext: open[1], body: [] };
    else if (block !== null && /^```\s*$/.test(line)) {
      const file = join(out, `${pkg}-${sources.length + 1}.${block.ext}`);
      // `export {}` makes each block a module of its own (top-level await, no shared names).
      writeFileSync(file, `${block.body.join('\n')}\nexport {};\n`);
      sources.push([file, relative(root, readme), block.start + 1]);
      block = null;
    } else if (block !== null) block.body.push(line);
  });
}

const tsc = join(here, 'node_modules/.bin/tsc');
try {
  execFileSync(tsc, ['-p', join(here, 'tsconfig.json')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
} catch (err) {
  // Map each error back to the README line it came from.
  const text = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  for (const [file, readme, line] of sources) {
    const name = relative(here, file);
    text.split('\n').filter((l) => l.startsWith(name)).forEach((l) => {
      const m = /\((\d+),(\d+)\)/.exec(l);
      console.error(`${readme}:${m ? line + Number(m[1]) - 1 : line}: ${l.slice(l.indexOf(': ') + 2)}`);
    });
  }
  if (!sources.some(([file]) => text.includes(relative(here, file)))) console.error(text.trim());
  console.error(`readme-examples: ${sources.length} code blocks, compile errors above`);
  process.exit(1);
}
console.log(`readme-examples: ${sources.length} code blocks from the packages' READMEs compile under strict TypeScript`);
