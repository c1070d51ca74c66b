#!/usr/bin/env node
// The `tx` command line. Bad input gives one clear line on stderr and exit
// code 2; --debug adds the stack trace.
import { runCli } from './run.js';

// `tx ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
