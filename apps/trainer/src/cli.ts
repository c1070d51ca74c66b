#!/usr/bin/env node
// The `tx` command line. Bad input gives one clear line on stderr and exit
// code 2; --debug adds the stack trace.
import { runCli } from './run.js';

// A closed pipe (`tx ... | head`) or a full disk behind stdout (`> /dev/full`)
// stops the command: one line on stderr, exit code 2, no stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  const reason = err.code === 'EPIPE' ? 'EPIPE: the reader closed it' : err.message.split(', ')[0];
  process.stderr.write(`tx: cannot write to standard output (${reason})\n`);
  process.exit(2);
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
