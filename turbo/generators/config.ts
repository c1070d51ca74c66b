// `turbo gen package`: a new @tx package that builds, type-checks, passes
// publint --strict and its tests as soon as it is written.
//
//   pnpm gen package --args <name> "<what it is>" [tfjs: yes|no]
//   pnpm turbo gen --tag 2.11.9 package --args <name> "<what it is>" [yes|no]
//
// The first runs the root devDependency @turbo/gen (pinned, offline); the
// second is what turbo does, fetching @turbo/gen@<tag> with `pnpm dlx`. Plain
// `turbo gen` asks for @turbo/gen at turbo's own version, and 2.11.10/2.11.11
// were never published: keep --tag equal to the pinned @turbo/gen.
//
// It writes packages/<name>/ from templates/package/ (the conventions of
// packages/positional: exports map, tsconfig.json + tsconfig.build.json over
// tooling/config, vitest via @tx/config/vitest, publint --strict, a bench/ stub
// for `pnpm bench`, LICENSE), a changeset, and the package's row in the root
// README's table; then runs `pnpm install` to link it and record it in
// pnpm-lock.yaml (CI installs with --frozen-lockfile).
//
// tfjs (default yes): the package depends on @tx/core and its example is a
// tensor function; "no" makes a pure TypeScript package like @tx/tokenizer.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlopTypes } from '@turbo/gen';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

// Plop asks every prompt that --args leaves out, and would wait for a terminal.
// When any --args are given (`turbo gen` passes them as JSON after `raw run
// --json`; @turbo/gen's own CLI as `--args a b`), the optional prompts are
// answered by their defaults instead. `when` must stay a boolean: plop refuses
// to take --args for a prompt whose `when` is a function.
const argsGiven = process.argv.some((a) => a === '--args' || a === '-a' || /"args":\s*\[\s*"/.test(a));

export default function generator(plop: PlopTypes.NodePlopAPI): void {
  const root = plop.getDestBasePath();

  plop.setHelper('json', (value: unknown) => JSON.stringify(value));

  plop.setGenerator('package', {
    description: 'A new @tx package: builds, type-checks, passes publint and its tests from the start',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'Package name (lower-case, dashes allowed; becomes @tx/<name> in packages/<name>):',
        filter: (value: string) => value.trim().replace(/^@tx\//, ''),
        validate: (value: string) => {
          const name = value.trim().replace(/^@tx\//, '');
          if (!NAME.test(name)) return `"${value}" is not a package name: use lower-case letters, digits and single dashes, starting with a letter (e.g. sliding-window)`;
          if (existsSync(join(root, 'packages', name))) return `packages/${name} already exists`;
          return true;
        },
      },
      {
        type: 'input',
        name: 'description',
        message: 'What it is, in one line (package.json description, README, changeset):',
        when: !argsGiven,
        validate: (value: string) => (value.trim().length > 0 ? true : 'say in one line what the package is'),
      },
      {
        type: 'confirm',
        name: 'tfjs',
        message: 'Does it compute with tensors (depend on @tx/core and tfjs)?',
        default: true,
        when: !argsGiven,
      },
    ],
    actions: (answers) => {
      const data = answers ?? {};
      data.description = String(data.description ?? '').trim().replace(/\s+/g, ' ');
      if (data.tfjs === undefined) data.tfjs = true;
      const dir = `packages/${data.name}`;
      return [
        () => {
          if (!data.description) throw new Error('give the one-line description as the second --args value: pnpm turbo gen package --args <name> "<what it is>"');
          return `@tx/${data.name}: ${data.description}`;
        },
        {
          type: 'addMany',
          destination: dir,
          base: 'templates/package',
          templateFiles: 'templates/package/**/*',
          stripExtensions: ['hbs'],
          globOptions: { dot: true },
          data,
          abortOnFail: true,
        },
        {
          type: 'add',
          path: `.changeset/${data.name}-first.md`,
          templateFile: 'templates/changeset.md.hbs',
          data,
          abortOnFail: true,
        },
        () => {
          copyFileSync(join(root, 'LICENSE'), join(root, dir, 'LICENSE'));
          return `${dir}/LICENSE (a copy of the root LICENSE, so npm pack ships it too)`;
        },
        () => addReadmeRow(root, data.name, data.description),
        () => {
          execFileSync('pnpm', ['install', '--prefer-offline'], { cwd: root, stdio: 'inherit' });
          return `pnpm install: linked ${dir} and recorded it in pnpm-lock.yaml. Next: pnpm turbo run build typecheck lint test --filter=@tx/${data.name}`;
        },
      ];
    },
  });
}

/** Insert the package's row after the last packages/ row of the root README's table. */
function addReadmeRow(root: string, name: string, description: string): string {
  const file = join(root, 'README.md');
  const lines = readFileSync(file, 'utf8').split('\n');
  const isPackageRow = (line: string) => /^\| \[`@tx\/[^`]+`\]\(packages\//.test(line);
  const last = lines.findLastIndex(isPackageRow);
  if (last < 0) throw new Error('README.md: no package table row linking to packages/ found; add the row by hand');
  const row = `| [\`@tx/${name}\`](packages/${name}) | ${description.replace(/\|/g, '\\|')} |`;
  lines.splice(last + 1, 0, row);
  writeFileSync(file, lines.join('\n'));
  return `README.md: added ${row}`;
}
