// What every `qkv train <task>` command shares: the training flags, the model flags' own
// checks, --viz, and running a session with a progress bar and a summary. train.ts (tag,
// classify), train-lm.ts and train-seq2seq.ts each import this; none imports another.
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeviceError, getBackend, hostBackendName, isCheckpoint, isDeviceBackend, OPTIMIZERS, readCheckpointConfig, SCHEDULES, trainSessionAsync, TrainingError,
  type SessionResult, type TaskDriver, type TrainEvent, type TaskInstance, type TaskName, type TaskOptions, type TrainerOptions,
} from '../../src/index.js';
import { progress } from '../progress.js';
import { choice, explicitFlags, float, int, prepareOutDir, printJson, UsageError } from '../shared.js';
import { interruptedRun, withInterrupts } from '../interrupts.js';
import { checkSizes } from '../sizes.js';
import { addLengthFlags, lengthOptions, summaryLines } from './train-length.js';
import { defaultProbe, probeProblem, watchAttention, watchOnHost, WATCH_FILE, type Watcher } from '../viz/watch.js';

/** Flags every task's training shares. */
export function addTrainingFlags(cmd: Command, defaults: { steps: number; epochs: number; lr: number; evalEvery: number; batch: number }): Command {
  return addLengthFlags(cmd, { stepsFlag: '--max-steps', ...defaults })
    .requiredOption('--out <dir>', 'run directory: checkpoints in DIR/best and DIR/last, log in DIR/log.jsonl')
    .option('--resume', 'continue the run in --out from its last checkpoint', false)
    .addOption(choice('--optimizer <name>', 'optimizer', OPTIMIZERS, 'adamw'))
    .option('--lr <x>', 'peak learning rate', float('--lr', 0), defaults.lr)
    .option('--min-lr <x>', 'final learning rate of the cosine schedule (default lr/10)', float('--min-lr', 0))
    .addOption(choice('--schedule <name>', 'learning-rate schedule', SCHEDULES, 'cosine'))
    .option('--warmup <n>', 'linear warmup steps', int('--warmup', 0), 0)
    .option('--decay-steps <n>', 'steps of cosine decay (default: the run\'s length in steps)', int('--decay-steps', 1))
    .option('--batch-size <n>', 'examples per batch', int('--batch-size', 1), defaults.batch)
    .option('--accumulate <n>', 'micro-batches per optimizer step (gradient accumulation)', int('--accumulate', 1), 1)
    .option('--clip <x>', 'clip the gradient norm to this (0: off)', float('--clip', 0), 1)
    .option('--weight-decay <x>', 'AdamW/SGD weight decay', float('--weight-decay', 0), 0.01)
    .option('--beta2 <x>', 'Adam beta2', float('--beta2', 0, 0.999999), 0.999)
    .option('--label-smoothing <x>', 'label smoothing of the loss', float('--label-smoothing', 0, 1), 0)
    .option('--eval-every <n>', 'evaluate (and checkpoint) every N steps', int('--eval-every', 1), defaults.evalEvery)
    .option('--seed <n>', 'random seed (data order, initialisation, dropout)', int('--seed', 0), 0)
    .option('--json', 'print a machine-readable summary at the end', false)
    .option('--config <file>', 'JSON file of flag values (flags on the command line win)');
}

export function trainerOptions(o: Record<string, unknown>, extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    optimizer: o.optimizer as TrainerOptions['optimizer'], lr: o.lr as number, minLr: o.minLr as number | undefined,
    schedule: o.schedule as TrainerOptions['schedule'], warmup: o.warmup as number, decaySteps: o.decaySteps as number | undefined,
    clip: o.clip as number, accumulate: o.accumulate as number, weightDecay: o.weightDecay as number,
    beta2: o.beta2 as number, evalEvery: o.evalEvery as number, seed: o.seed as number, ...lengthOptions(o), ...extra,
  };
}

const pendingNotes = new WeakMap<object, string[]>();

/**
 * Lines for stderr (flags this run ignores) printed once training starts, after every check has
 * passed: a refused run prints its one error line and nothing beside it.
 */
export function noteWhenTraining(o: Record<string, unknown>, lines: readonly string[]): void {
  pendingNotes.set(o, [...(pendingNotes.get(o) ?? []), ...lines]);
}

/**
 * Runs a session with a progress bar and prints the summary. SIGINT/SIGTERM stop it between
 * steps: the last checkpoint is saved at the step reached and one line says where (exit 130/143).
 */
export async function runAndReport<I extends TaskInstance, E, O extends TaskOptions>(task: TaskName, driver: TaskDriver<I, E, unknown, unknown, O>, train: readonly E[], dev: readonly E[],
  o: Record<string, unknown>, taskOptions: O, meta: Record<string, unknown>, trainer = trainerOptions(o)): Promise<SessionResult> {
  const out = o.out as string;
  prepareOutDir('--out', out);
  if (!o.resume && existsSync(join(out, 'last'))) throw new UsageError(`--out ${out} already holds a run; pass --resume to continue it, or choose another directory`);
  const bar = progress({ log: join(out, 'log.jsonl'), quiet: Boolean(o.json) });
  const notes = pendingNotes.get(o) ?? [];
  let watch: Watcher | undefined;
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'start') for (const line of notes.splice(0)) console.error(`qkv: ${line}`);
    bar.onEvent(e);
    watch?.onEvent?.(e);
  };
  let result: SessionResult;
  try {
    watch = watcher(task, driver, o, meta, dev, notes);
    const onEvaluated = watch?.onEvaluated;
    result = await withInterrupts(async (signal) => {
      const r = await trainSessionAsync(driver, train, dev,
        { out, resume: Boolean(o.resume), trainer, task: taskOptions, meta, onEvent, evalMax: o.evalMax as number | undefined, onEvaluated, signal,
          explicit: explicitFlags(o) });
      if (r.stop?.reason === 'interrupted') throw interrupted(out, r, signal);
      return r;
    });
  } catch (e) {
    if (e instanceof DeviceError) throw deviceFault(e, out);
    if (e instanceof TrainingError && isCheckpoint(join(out, 'last'))) {
      const step = (readCheckpointConfig(join(out, 'last')).step as number | undefined) ?? '?';
      throw new UsageError(`${e.message.replace(/ \(.*?\)\./, '.')} The last good checkpoint is ${join(out, 'last')} (step ${step}); resume from it with --resume`);
    }
    throw e;
  } finally {
    bar.stop();
  }
  const summary = {
    task, out, steps: result.steps, epochs: result.epochs === null ? null : Number(result.epochs.toFixed(3)),
    seconds: Number(result.seconds.toFixed(3)), evalSeconds: Number(result.evalSeconds.toFixed(3)), positionsPerSecond: Math.round(result.positionsPerSecond),
    parameters: result.parameters, metrics: result.last?.metrics ?? {}, best: result.best, stop: result.stop, dev: result.dev,
  };
  if (o.json) printJson(summary);
  else for (const line of summaryLines(task, result)) console.log(line);
  return result;
}

/** The one line for a run stopped by a signal: where its latest checkpoint is. */
function interrupted(out: string, r: SessionResult, signal: AbortSignal): Error {
  const last = join(out, 'last');
  return interruptedRun(signal, r.stop!.message, isCheckpoint(last)
    ? `the latest checkpoint is ${last} (step ${String(readCheckpointConfig(last).step)}); continue with --resume`
    : 'no step was done, nothing was saved');
}

/** The one line for a run a device fault stopped (a lost GPU, out of memory): what failed, and where its latest checkpoint is. */
function deviceFault(e: DeviceError, out: string): Error {
  const last = join(out, 'last');
  const what = e.message.replace(/; use --backend .*$/, '');
  return new UsageError(isCheckpoint(last)
    ? `${what}; training stopped: the latest checkpoint is ${last} (step ${String(readCheckpointConfig(last).step)}); continue with --resume --backend native (or wasm)`
    : `${what}; training stopped before its first checkpoint; use --backend native (or wasm)`);
}

/** --viz [input]: record alpha' for a probe input at every evaluation (qkv viz --model DIR plays it back). */
function watcher(task: TaskName, driver: Parameters<typeof watchOnHost>[0], o: Record<string, unknown>, meta: Record<string, unknown>, dev: readonly unknown[],
  notes: string[]): Watcher | undefined {
  if (o.viz === undefined || o.viz === false) return undefined;
  const probe = o.viz === true ? defaultProbe(task, meta, dev, o.blockSize as number | undefined) : String(o.viz);
  const problem = probeProblem(task, probe);
  if (problem) throw new UsageError(`--viz: ${problem}`);
  if ((task === 'tag' || task === 'classify') && o.model !== 'transformer') throw new UsageError(`--viz: a ${String(o.model)} model has no attention to watch (use --model transformer)`);
  const record = watchAttention(o.out as string, probe);
  if (!isDeviceBackend(getBackend())) return { onEvaluated: record };
  // recording reads every layer's and head's intermediates back: on a device it runs on a host backend
  const host = hostBackendName();
  notes.push(`--viz: the attention is recorded on the ${host} backend, from the checkpoint each evaluation writes (it reads every layer's and head's intermediates back); the model trains on ${getBackend().name}`);
  return watchOnHost(driver, o.out as string, record, host);
}

/** The --viz flag of every task; `what` says what its default probe is. */
export function vizOption(what: string): Option {
  return new Option('--viz [input]', `watch training: record the attention weights for this input at every evaluation, in DIR/${WATCH_FILE}, for qkv viz --model DIR (default: ${what})`);
}

/** The model flags' own rules, checked here so a message names the flag, not a module deep inside. */
export function checkModelFlags(o: Record<string, unknown>): void {
  const [kind, d, heads, layers, batch] = [o.model ?? 'transformer', o.dModel as number, o.heads as number, o.layers as number, o.batchSize as number];
  if (kind === 'transformer' || kind === undefined) {
    if (d % heads) throw new UsageError(`--heads ${heads} must divide --d-model ${d}`);
    if (o.pos === 'rope' && (d / heads) % 2) {
      throw new UsageError(`--pos rope needs an even head width, but --d-model ${d} / --heads ${heads} = ${d / heads}; change --heads or --d-model, or use another --pos`);
    }
  }
  if (kind === 'cnn' && (o.kernel as number) % 2 === 0) throw new UsageError(`--kernel must be odd (the window is centred on each position), got ${String(o.kernel)}`);
  if (kind === 'rnn' && d % 2) throw new UsageError(`--model rnn needs an even --d-model (each direction gets half), got ${d}`);
  const ff = (o.ff as number | undefined) ?? 4 * d;
  // a guess of 64 positions per example; the check is for sizes that are off by orders of magnitude
  checkSizes({ '--d-model': d, '--layers': layers, ...(o.ff ? { '--ff': ff } : {}), '--batch-size': batch },
    2 * layers * (4 * d * d + 2 * d * ff), 64 * batch * layers * (12 * d + 2 * ff));
}
