// The `qkv` command as a function: builds the commander program, runs it on argv, and turns
// every error into one line (cli/errors.ts). Returns the exit code; cli/qkv.ts is the binary.
// Tests call main() in-process, so nothing here calls process.exit.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { defaultBackendNote, selectBackend, version } from '../src/index.js';
import { demo } from './demo.js';
import { trainCommand } from './commands/train.js';
import { evalCommand, infoCommand, predictCommand } from './commands/use.js';
import { generateCommand } from './commands/generate.js';
import { debugging, report } from './errors.js';
import { prepareOutDir, UsageError } from './shared.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

export function buildProgram(): Command {
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
    .action((opts: { steps: number; seed: number; out: string; sentence: string }) => { prepareOutDir('--out', opts.out); demo(opts); });

  program.addCommand(trainCommand()).addCommand(evalCommand()).addCommand(predictCommand()).addCommand(infoCommand());
  program.addCommand(generateCommand());
  const visit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showHelpAfterError('(add --help for usage)');
      visit(sub);
    }
  };
  visit(program);
  return program;
}

/** Runs `qkv` on argv (node's form: [node, script, ...args]); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed its one line (or the help)
    const r = report(e);
    console.error(`qkv: ${r.line}`);
    if (debugging() && e instanceof Error && e.stack) console.error(e.stack);
    return r.exitCode;
  }
}
