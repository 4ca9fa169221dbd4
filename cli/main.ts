// The `qkv` command as a function: builds the commander program, runs it on argv, and turns
// every error into one line (cli/errors.ts). Returns the exit code; cli/qkv.ts is the binary.
// Tests call main() in-process, so nothing here calls process.exit.
import { Command, CommanderError } from 'commander';
import { defaultBackendNote, describeBackend, getBackend, nativeAvailable, selectBackend, selectBackendAsync, version } from '../src/index.js';
import { demo } from './demo.js';
import { trainCommand } from './commands/train.js';
import { evalCommand, infoCommand, predictCommand } from './commands/use.js';
import { generateCommand } from './commands/generate.js';
import { exportCommand } from './commands/export.js';
import { vizCommand } from './commands/viz.js';
import { playgroundCommand } from './commands/playground.js';
import { experimentCommand } from './commands/experiment.js';
import { dataCommand } from './commands/data.js';
import { debugging, report } from './errors.js';
import { int, prepareOutDir, readConfig, UsageError } from './shared.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('qkv')
    .description('Self-attention and the Transformer, from the lecture to production.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run qkv --help for usage)')
    .option('--backend <name>', 'kernels to run on: native (C++ addon, default where built), wasm (WebAssembly SIMD), ref (plain TypeScript) or webgpu (the GPU, through the optional webgpu package)')
    .option('--threads <n>', 'threads for the native or wasm backend (default: every core)', int('--threads', 1))
    .exitOverride();

  // --backend/--threads apply to every command (QKV_BACKEND and QKV_THREADS do the same from the environment)
  program.hook('preAction', async () => {
    const { backend, threads } = program.opts<{ backend?: string; threads?: number }>();
    if (backend !== undefined && backend !== 'native' && backend !== 'wasm' && backend !== 'ref' && backend !== 'webgpu') {
      throw new UsageError(`--backend must be native, wasm, ref or webgpu, got "${backend}"`);
    }
    if (backend === 'webgpu') {
      await selectBackendAsync('webgpu');
      return;
    }
    if (backend === undefined && getBackend().name === 'webgpu') return; // QKV_BACKEND=webgpu
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
    .action(async (opts: { steps: number; seed: number; out: string; sentence: string }) => { prepareOutDir('--out', opts.out); await demo(opts); });

  program.addCommand(trainCommand()).addCommand(evalCommand()).addCommand(predictCommand()).addCommand(infoCommand());
  program.addCommand(generateCommand()).addCommand(exportCommand()).addCommand(vizCommand()).addCommand(experimentCommand()).addCommand(dataCommand());
  program.addCommand(playgroundCommand());
  const visit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showHelpAfterError('(add --help for usage)');
      checkRequiredAfterUnknown(sub);
      visit(sub);
    }
  };
  visit(program);
  return program;
}

/**
 * Commander checks required options before unknown ones, so `qkv train tag --bogus` would say
 * "--out not specified" and never name the typo. The required check moves to a preAction hook,
 * which runs after the unknown-option check, with commander's own wording.
 */
function checkRequiredAfterUnknown(cmd: Command): void {
  const required = cmd.options.filter((opt) => opt.mandatory);
  if (!required.length) return;
  for (const opt of required) opt.makeOptionMandatory(false);
  cmd.hook('preAction', (_parent, action) => {
    if (action !== cmd) return;
    // a --config file may give them ("out": "runs/x"): its values are read (and checked) first
    readConfig(cmd);
    for (const opt of required) {
      if (cmd.getOptionValue(opt.attributeName()) === undefined) cmd.error(`error: required option '${opt.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  });
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
