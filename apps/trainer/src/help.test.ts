// Help comes from the flag tables that parse the command line (flags.ts), and
// tx writes nothing on stderr but its own one line: no native library's
// warnings, even on a machine without the Vulkan loader.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTx } from '../test/run-tx.js';
import { BENCH_FLAGS, EVAL_FLAGS, EXPORT_FLAGS, IMPORT_FLAGS, INSPECT_FLAGS, SAMPLE_FLAGS, TRAIN_FLAGS, type Spec } from './flags.js';

const TABLES: Record<string, Spec> = { train: TRAIN_FLAGS, sample: SAMPLE_FLAGS, eval: EVAL_FLAGS, inspect: INSPECT_FLAGS, import: IMPORT_FLAGS, export: EXPORT_FLAGS, bench: BENCH_FLAGS };
const cli = join(import.meta.dirname, '../dist/cli.js');
const version = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')).version;

describe('tx COMMAND --help', () => {
  it.each(Object.keys(TABLES))('tx %s --help lists every flag its parser takes, with its description', async (command) => {
    const { code, stdout, stderr } = await runTx([command, '--help']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(new RegExp(`^tx ${command}: .+\\n\\nUsage:\\n  tx ${command} `));
    for (const [flag, f] of Object.entries(TABLES[command])) {
      const left = f.type === 'boolean' ? `--${flag}` : `--${flag} ${f.value}`;
      const line = stdout.split('\n').find((l) => l.startsWith(`  ${left} `));
      expect(line, `${left} in tx ${command} --help`).toBeDefined();
      expect(line).toContain(f.help.split(' ').slice(0, 3).join(' '));
    }
    expect(stdout).toMatch(/\n {2}--debug +print the stack trace of an error\n {2}--help +print this help\n/);
    expect(stdout.split('\n').every((l) => l.length <= 100)).toBe(true);
  });

  it('a flag outside the table is refused, and a required one is asked for', async () => {
    expect((await runTx(['sample', '--checkpoint', 'x', '--frobnicate'])).stderr).toBe("tx: Unknown option '--frobnicate' (see tx --help)\n");
    expect((await runTx(['export', '--checkpoint', 'x'])).stderr).toBe('tx: --out is required (see tx --help)\n');
  });

  it('-h and help COMMAND work too; -h after a flag that takes a value is not a request for help', async () => {
    const sample = (await runTx(['sample', '--help'])).stdout;
    expect((await runTx(['sample', '-h'])).stdout).toBe(sample);
    expect((await runTx(['help', 'sample'])).stdout).toBe(sample);
    const asValue = await runTx(['sample', '--checkpoint', '/nonexistent/ckpt', '--prompt=-h']);
    expect([asValue.code, asValue.stderr]).toEqual([2, 'tx: no checkpoint at /nonexistent/ckpt: the folder does not exist\n']);
    const ambiguous = await runTx(['sample', '--checkpoint', '/nonexistent/ckpt', '--prompt', '-h']);
    expect([ambiguous.code, ambiguous.stderr]).toEqual([2, "tx: Option '--prompt' argument is ambiguous (see tx --help)\n"]);
  });

  it('tx --help lists every command with its usage; settings only a config file sets are named in tx train --help', async () => {
    const { stdout } = await runTx(['--help']);
    for (const command of Object.keys(TABLES)) expect(stdout).toMatch(new RegExp(`\\n {2}tx ${command} +\\S`));
    expect((await runTx(['train', '--help'])).stdout).toMatch(/Settings only a --config file sets: minLr, warmupIters, weightDecay, beta2, gradClip, evalIters,\s+nLayer/);
  });

  it('tx --version prints the package version', async () => {
    expect(await runTx(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

/** The built tx as a process: its whole stderr, native writes included. */
const spawnTx = (args: string[], wrap: string[] = []) => {
  const [cmd, ...rest] = [...wrap, process.execPath, cli, ...args];
  return spawnSync(cmd, rest, { encoding: 'utf8' });
};

/**
 * Run inside a private mount namespace in which libvulkan.so.1 does not exist
 * (overlay whiteouts on the library folders): the machine of a user without
 * Debian's libvulkan1. Needs root and overlayfs, as CI has; nothing outside
 * the namespace changes.
 */
const HIDE_VULKAN = `set -e
d=$(mktemp -d)
mount -t tmpfs tmpfs "$d"
hidden=""
for lib in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
  ls "$lib"/libvulkan.so.1* >/dev/null 2>&1 || continue
  mkdir -p "$d$lib/u" "$d$lib/w"
  for f in "$lib"/libvulkan.so.1*; do mknod "$d$lib/u/$(basename "$f")" c 0 0; done
  mount -t overlay overlay -o "lowerdir=$lib,upperdir=$d$lib/u,workdir=$d$lib/w" "$lib"
  hidden="$hidden $lib"
done
set +e
"$@"
status=$?
for lib in $hidden; do umount -l "$lib"; done
umount -l "$d"; rmdir "$d"
exit $status`;
const noVulkan = ['unshare', '--mount', 'sh', '-c', HIDE_VULKAN, 'sh'];
const canHide = process.platform === 'linux' && spawnSync(noVulkan[0], [...noVulkan.slice(1), 'sh', '-c', '! ls /usr/lib/*/libvulkan.so.1 /usr/lib/libvulkan.so.1 2>/dev/null']).status === 0;

describe('stderr holds only what tx writes', () => {
  it('tx sample on a missing checkpoint: one line', () => {
    const { status, stderr } = spawnTx(['sample', '--checkpoint', 'nope']);
    expect([status, stderr]).toEqual([2, 'tx: no checkpoint at nope: the folder does not exist\n']);
  });

  // CI runs as root: there this never skips.
  it.skipIf(!canHide)('without the Vulkan loader: still one line, and --backend webgpu says what is missing', () => {
    const auto = spawnTx(['sample', '--checkpoint', 'nope'], noVulkan);
    expect([auto.status, auto.stderr]).toEqual([2, 'tx: no checkpoint at nope: the folder does not exist\n']);
    const webgpu = spawnTx(['sample', '--checkpoint', 'nope', '--backend', 'webgpu'], noVulkan);
    expect([webgpu.status, webgpu.stderr]).toEqual([
      2,
      'tx: backend "webgpu" could not start: Dawn (WebGPU in Node) needs the Vulkan loader libvulkan.so.1, which is not installed (Debian, Ubuntu: apt-get install libvulkan1; Fedora: dnf install vulkan-loader)\n',
    ]);
  });
});
