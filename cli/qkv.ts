#!/usr/bin/env node
// The `qkv` binary: runs cli/main.ts on the command line and exits with its code.
import { readFileSync } from 'node:fs';
import { version } from '../src/index.js';
import { main } from './main.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
if (pkg.version !== version) throw new Error(`package.json version ${pkg.version} and src/index.ts version ${version} differ`);

// `qkv ... | head` closes the pipe early: stop quietly, as other tools do, instead of a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv);
