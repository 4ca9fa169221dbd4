// `qkv train <task>`: train a model on a file or a built-in set, with checkpoints in --out.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  classifyDriver, isCheckpoint, nn, OPTIMIZERS, readCheckpoint, SCHEDULES, tagDriver, trainSession, TrainingError, MODEL_KINDS,
  type SessionResult, type TaskDriver, type TaskInstance, type TaskName, type TrainerOptions,
} from '../../src/index.js';
import { builtinExamples, FORMATS, readExamples } from '../datasets.js';
import { progress } from '../progress.js';
import { applyConfig, choice, float, fmt, int, printJson, UsageError } from '../shared.js';
import { trainLmCommand } from './train-lm.js';
import { trainSeq2seqCommand } from './train-seq2seq.js';

/** Flags every task's training shares. */
export function addTrainingFlags(cmd: Command, defaults: { steps: number; lr: number; evalEvery: number; batch: number }): Command {
  return cmd
    .requiredOption('--out <dir>', 'run directory: checkpoints in DIR/best and DIR/last, log in DIR/log.jsonl')
    .option('--resume', 'continue the run in --out from its last checkpoint', false)
    .addOption(choice('--optimizer <name>', 'optimizer', OPTIMIZERS, 'adamw'))
    .option('--lr <x>', 'peak learning rate', float('--lr', 0), defaults.lr)
    .option('--min-lr <x>', 'final learning rate of the cosine schedule (default lr/10)', float('--min-lr', 0))
    .addOption(choice('--schedule <name>', 'learning-rate schedule', SCHEDULES, 'cosine'))
    .option('--warmup <n>', 'linear warmup steps', int('--warmup', 0), 0)
    .option('--decay-steps <n>', 'steps of cosine decay (default: --max-steps)', int('--decay-steps', 1))
    .option('--max-steps <n>', 'optimizer steps', int('--max-steps', 1), defaults.steps)
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

/** Model flags of the tag and classify tasks. */
function addModelFlags(cmd: Command): Command {
  return cmd
    .addOption(choice('--model <kind>', 'model body', MODEL_KINDS, 'transformer'))
    .addOption(choice('--attention <kind>', 'attention of the transformer', nn.ATTENTION_KINDS, 'softmax'))
    .addOption(choice('--pos <kind>', 'positional encoding of the transformer', nn.POSITION_KINDS, 'rope'))
    .option('--d-model <n>', 'width of the model', int('--d-model', 2), 64)
    .option('--layers <n>', 'layers', int('--layers', 1), 2)
    .option('--heads <n>', 'attention heads', int('--heads', 1), 4)
    .option('--dropout <x>', 'dropout', float('--dropout', 0, 1), 0.1)
    .option('--window <n>', 'truncated attention: look at most N positions either side', int('--window', 0))
    .option('--kernel <n>', 'CNN kernel size; window-fc: window size (odd)', int('--kernel', 1), 3)
    .addOption(choice('--cell <kind>', 'RNN cell', ['gru', 'lstm'], 'lstm'));
}

function addDataFlags(cmd: Command, formats: readonly string[], builtins: string): Command {
  return cmd
    .option('--train <file>', 'training data')
    .option('--dev <file>', 'held-out data for evaluation (default: 10% of --train)')
    .option('--builtin <name>', `a generated data set instead of files (${builtins})`)
    .option('--n <count>', 'examples of the built-in set', int('--n', 10), 2000)
    .addOption(choice('--format <name>', 'file format (default: from the extension)', ['auto', ...formats], 'auto'))
    .addOption(choice('--column <name>', 'CoNLL-U tag column', ['upos', 'xpos'], 'upos'));
}

export function trainerOptions(o: Record<string, unknown>, extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    optimizer: o.optimizer as TrainerOptions['optimizer'], lr: o.lr as number, minLr: o.minLr as number | undefined,
    schedule: o.schedule as TrainerOptions['schedule'], warmup: o.warmup as number, decaySteps: o.decaySteps as number | undefined,
    maxSteps: o.maxSteps as number, clip: o.clip as number, accumulate: o.accumulate as number, weightDecay: o.weightDecay as number,
    beta2: o.beta2 as number, evalEvery: o.evalEvery as number, seed: o.seed as number, ...extra,
  };
}

/** Runs a session with a progress bar and prints the summary. */
export function runAndReport<I extends TaskInstance, E>(task: TaskName, driver: TaskDriver<I, E, unknown, unknown>, train: readonly E[], dev: readonly E[],
  o: Record<string, unknown>, taskOptions: Record<string, unknown>, meta: Record<string, unknown>, trainer = trainerOptions(o)): SessionResult {
  const out = o.out as string;
  if (!o.resume && existsSync(join(out, 'last'))) throw new UsageError(`--out ${out} already holds a run; pass --resume to continue it, or choose another directory`);
  const bar = progress({ total: trainer.maxSteps, start: 0, log: join(out, 'log.jsonl'), quiet: Boolean(o.json) });
  let result: SessionResult;
  try {
    result = trainSession(driver, train, dev, { out, resume: Boolean(o.resume), trainer, task: taskOptions, meta, onEvent: bar.onEvent });
  } catch (e) {
    if (e instanceof TrainingError && isCheckpoint(join(out, 'last'))) {
      const step = (readCheckpoint(join(out, 'last')).config.step as number | undefined) ?? '?';
      throw new UsageError(`${e.message.replace(/ \(.*?\)\./, '.')} The last good checkpoint is ${join(out, 'last')} (step ${step}); resume from it with --resume`);
    }
    throw e;
  } finally {
    bar.stop();
  }
  const summary = {
    task, out, steps: result.steps, seconds: Number(result.seconds.toFixed(2)), positionsPerSecond: Math.round(result.positionsPerSecond),
    parameters: result.parameters, metrics: result.last?.metrics ?? {}, best: result.best,
  };
  if (o.json) printJson(summary);
  else {
    console.log(`trained ${task} for ${result.steps} steps in ${result.seconds.toFixed(1)} s (${summary.positionsPerSecond} positions/s, ${result.parameters} parameters)`);
    console.log(Object.entries(summary.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  '));
    console.log(`best ${result.best.metric} ${fmt(result.best.value ?? NaN)} at step ${result.best.step}; model saved in ${join(out, 'best')}`);
  }
  return result;
}

function labelled(task: 'tag' | 'classify', o: Record<string, unknown>): { train: unknown[]; dev: unknown[]; meta: Record<string, unknown> } {
  if (o.builtin) {
    if (o.train) throw new UsageError('give --train or --builtin, not both');
    return { ...builtinExamples(task, o.builtin as string, o.n as number, o.seed as number), meta: { builtin: o.builtin, n: o.n } };
  }
  if (!o.train) throw new UsageError('give --train FILE (or --builtin NAME)');
  const read = (f: string) => readExamples(task, f, { format: o.format as string, column: o.column as 'upos' | 'xpos' });
  const train = read(o.train as string);
  if (o.dev) return { train, dev: read(o.dev as string), meta: { train: o.train, dev: o.dev } };
  const cut = Math.max(1, Math.floor(train.length * 0.1));
  if (train.length < 2) throw new UsageError(`${String(o.train)}: needs at least 2 examples to hold one out (or give --dev)`);
  return { train: train.slice(cut), dev: train.slice(0, cut), meta: { train: o.train, dev: `first ${cut} examples of ${String(o.train)}` } };
}

function modelOptions(o: Record<string, unknown>) {
  return {
    kind: o.model, dModel: o.dModel, layers: o.layers, heads: o.heads, dropout: o.dropout, attention: o.attention, pos: o.pos,
    window: o.window ?? null, kernel: o.kernel, cell: o.cell,
  };
}

export function trainCommand(): Command {
  const train = new Command('train').description('train a model: tag | classify | seq2seq | lm');
  const tag = addModelFlags(addDataFlags(new Command('tag'), FORMATS.filter((f) => f !== 'tsv'), 'ambiguity, speech, graph'))
    .description('sequence labeling: one label per word, frame or graph node')
    .option('--word-dropout <x>', 'replace training words by <unk> at this rate', float('--word-dropout', 0, 1), 0.05);
  addTrainingFlags(tag, { steps: 400, lr: 5e-3, evalEvery: 100, batch: 32 }).action((_o, cmd: Command) => {
    const o = applyConfig(cmd);
    const { train: tr, dev, meta } = labelled('tag', o);
    runAndReport('tag', tagDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, tr, dev, o,
      { model: modelOptions(o), batchSize: o.batchSize, labelSmoothing: o.labelSmoothing, wordDropout: o.wordDropout }, meta);
  });
  const classify = addModelFlags(addDataFlags(new Command('classify'), ['tsv', 'frames', 'graph'], 'none yet'))
    .description('one label per sequence (text<TAB>label, or JSONL frames/graphs with "label")');
  addTrainingFlags(classify, { steps: 400, lr: 3e-3, evalEvery: 100, batch: 32 }).action((_o, cmd: Command) => {
    const o = applyConfig(cmd);
    const { train: tr, dev, meta } = labelled('classify', o);
    runAndReport('classify', classifyDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, tr, dev, o,
      { model: modelOptions(o), batchSize: o.batchSize, labelSmoothing: o.labelSmoothing }, meta);
  });
  return train.addCommand(tag).addCommand(classify).addCommand(trainSeq2seqCommand()).addCommand(trainLmCommand());
}
