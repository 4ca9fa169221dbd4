#!/usr/bin/env node
// The `qkv` command. Parses flags (commander), calls the public API, prints results.
// User errors print one line and exit non-zero, without a stack trace.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { defaultBackendNote, describeBackend, nativeAvailable, QkvError, selectBackend, version } from '../src/index.js';
import { demo } from './demo.js';
import { trainCommand } from './commands/train.js';
import { evalCommand, infoCommand, predictCommand } from './commands/use.js';
import { generateCommand } from './commands/generate.js';
import { exportCommand } from './commands/export.js';
import { vizCommand } from './commands/viz.js';
import { int, UsageError } from './shared.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
if (pkg.version !== version) throw new Error(`package.json version ${pkg.version} and src/index.ts version ${version} differ`);

const program = new Command()
  .name('qkv')
  .description('Self-attention and the Transformer, from the lecture to production.')
  .version(version, '-v, --version')
  .showHelpAfterError('(run qkv --help for usage)')
  .option('--backend <name>', 'kernels to run on: native (C++ addon, default where built), wasm (WebAssembly SIMD) or ref (plain TypeScript)')
  .option('--threads <n>', 'threads for the native or wasm backend (default: every core)', int('--threads', 1))
  .exitOverride();

// --backend/--threads apply to every command (QKV_BACKEND and QKV_THREADS do the same from the environment)
program.hook('preAction', () => {
  const { backend, threads } = program.opts<{ backend?: string; threads?: number }>();
  if (backend !== undefined && backend !== 'native' && backend !== 'wasm' && backend !== 'ref') {
    throw new UsageError(`--backend must be native, wasm or ref, got "${backend}"`);
  }
  if (backend === 'native' && !nativeAvailable()) throw new UsageError(`--backend native: ${defaultBackendNote() || 'the native addon is not available'}`);
  const current = describeBackend().split(' ')[0]!;
  const wanted = backend ?? (current === 'native' || current === 'wasm' ? current : undefined);
  if (wanted === 'ref') selectBackend('ref');
  else if (wanted && (backend !== undefined || threads !== undefined)) selectBackend(wanted as 'native' | 'wasm', threads !== undefined ? { threads } : {});
  if (defaultBackendNote() && backend !== 'ref') console.error(`qkv: ${defaultBackendNote()}`);
});

program
  .command('demo')
  .description('the main job: a fully-connected and a self-attention tagger on "I saw a saw" sentences, compared')
  .option('--steps <n>', 'training steps per model', int('--steps', 1), 400)
  .option('--seed <n>', 'random seed', int('--seed', 0), 0)
  .option('--out <dir>', 'where the two runs are saved', 'runs')
  .option('--sentence <text>', 'the sentence whose attention is drawn', 'I saw a saw')
  .action((opts: { steps: number; seed: number; out: string; sentence: string }) => demo(opts));

program.addCommand(trainCommand()).addCommand(evalCommand()).addCommand(predictCommand()).addCommand(infoCommand());
program.addCommand(generateCommand()).addCommand(exportCommand()).addCommand(vizCommand());
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
