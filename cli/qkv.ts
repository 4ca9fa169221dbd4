#!/usr/bin/env node
// The `qkv` command. Parses flags (commander), calls the public API, prints results.
// User errors print one line and exit non-zero, without a stack trace.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { defaultBackendNote, QkvError, selectBackend, version } from '../src/index.js';
import { demo } from './demo.js';
import { trainCommand } from './commands/train.js';
import { evalCommand, infoCommand, predictCommand } from './commands/use.js';
import { generateCommand } from './commands/generate.js';
import { experimentCommand } from './commands/experiment.js';
import { UsageError } from './shared.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
if (pkg.version !== version) throw new Error(`package.json version ${pkg.version} and src/index.ts version ${version} differ`);

const program = new Command()
  .name('qkv')
  .description('Self-attention and the Transformer, from the lecture to production.')
  .version(version, '-v, --version')
  .showHelpAfterError('(run qkv --help for usage)')
  .option('--backend <name>', 'kernels to run on: wasm (WebAssembly SIMD, default) or ref (plain TypeScript)')
  .option('--threads <n>', 'threads for the wasm backend (default: every core)', integer('--threads', 1))
  .exitOverride();

// --backend/--threads apply to every command (QKV_BACKEND and QKV_THREADS do the same from the environment)
program.hook('preAction', () => {
  const { backend, threads } = program.opts<{ backend?: string; threads?: number }>();
  if (backend !== undefined && backend !== 'wasm' && backend !== 'ref') throw new UsageError(`--backend must be wasm or ref, got "${backend}"`);
  if (backend === 'ref') selectBackend('ref');
  else if (backend === 'wasm' || threads !== undefined) selectBackend('wasm', threads !== undefined ? { threads } : {});
  if (defaultBackendNote() && backend !== 'ref') console.error(`qkv: ${defaultBackendNote()}`);
});

program
  .command('demo')
  .description('the main job: a fully-connected and a self-attention tagger on "I saw a saw" sentences, compared')
  .option('--steps <n>', 'training steps per model', integer('--steps', 1), 400)
  .option('--seed <n>', 'random seed', integer('--seed', 0), 0)
  .option('--out <dir>', 'where the two runs are saved', 'runs')
  .option('--sentence <text>', 'the sentence whose attention is drawn', 'I saw a saw')
  .action((opts: { steps: number; seed: number; out: string; sentence: string }) => demo(opts));

program.addCommand(trainCommand()).addCommand(evalCommand()).addCommand(predictCommand()).addCommand(infoCommand());
program.addCommand(generateCommand()).addCommand(experimentCommand());
for (const sub of program.commands) {
  sub.exitOverride().showHelpAfterError('(add --help for usage)');
  for (const s of sub.commands) s.exitOverride().showHelpAfterError('(add --help for usage)');
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode); // commander already printed one line
  if (e instanceof QkvError || e instanceof UsageError) {
    console.error(`qkv: ${e.message}`);
    process.exit(1);
  }
  throw e; // a bug: keep the stack trace
}
