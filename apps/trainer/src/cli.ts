#!/usr/bin/env node
// The `tx` command line. Bad input gives one clear line on stderr and exit
// code 2; --debug adds the stack trace.
import { fstatSync, readFileSync, statSync } from 'node:fs';
import { runCli } from './run.js';
import { stoppingOn } from './session.js';

// `tx ... >&-`: Node puts /dev/null, opened read-write, where a closed stdout
// was, so the output would vanish and tx exit 0. A shell's `> /dev/null` opens
// it write-only, so the read-write mode tells the two apart (Linux's
// /proc/self/fdinfo; elsewhere this check is skipped).
if (stdoutWasClosed()) {
  process.stderr.write('tx: cannot write to standard output (it is closed)\n');
  process.exit(2);
}

// A closed pipe (`tx ... | head`) or a full disk behind stdout (`> /dev/full`)
// stops the command: one line on stderr, exit code 2, no stack trace. But a
// hung-up terminal sends SIGHUP before its writes fail: the decision waits a
// turn of the event loop, so that a signal already sent is handled first, and
// a run stopping on one saves and exits 128 + n.
let stdoutFailed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (stdoutFailed) return;
  stdoutFailed = true;
  setTimeout(() => {
    if (stoppingOn()) return;
    const reason = err.code === 'EPIPE' ? 'EPIPE: the reader closed it' : err.message.split(', ')[0];
    process.stderr.write(`tx: cannot write to standard output (${reason})\n`);
    process.exit(2);
  }, 20);
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });

function stdoutWasClosed(): boolean {
  try {
    const [out, nul] = [fstatSync(1), statSync('/dev/null')];
    if (!out.isCharacterDevice() || out.rdev !== nul.rdev) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'));
    return flags !== null && (parseInt(flags[1], 8) & 3) === 2; // O_ACCMODE is O_RDWR
  } catch {
    return false;
  }
}
