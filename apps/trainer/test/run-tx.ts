// Running tx in-process for tests: runCli with stdout and stderr captured
// (only what tx itself writes), and a tiny model config that trains in a blink.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/run.js';

export async function runTx(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

export const tmp = (prefix = 'tx-test-') => mkdtempSync(join(tmpdir(), prefix));

/** A --config file: by default a one-layer, 16-channel model with a context of 16 and 2 eval batches. */
export function tinyConfig(settings: Record<string, unknown> = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, evalIters: 2 }): string {
  const path = join(tmp(), 'config.json');
  writeFileSync(path, JSON.stringify(settings));
  return path;
}
