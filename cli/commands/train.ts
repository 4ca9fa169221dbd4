// `qkv train <task>`: train a model on a file or a built-in set, with checkpoints in --out.
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  classifyDriver, data, isCheckpoint, readTextFile, nn, OPTIMIZERS, readCheckpoint, SCHEDULES, tagDriver, trainSessionAsync, TrainingError, MODEL_KINDS,
  type SessionResult, type TaskDriver, type TaskInstance, type TaskName, type TrainerOptions,
} from '../../src/index.js';
import { builtinExamples, detectFormat, FORMATS, readExamples } from '../datasets.js';
import { imageFrontEndFor } from '../media.js';
import { progress } from '../progress.js';
import { applyConfig, checkVocabSize, choice, float, int, prepareOutDir, printJson, UsageError, vocabSizeOption } from '../shared.js';
import { interruptedRun, withInterrupts } from '../interrupts.js';
import { checkSizes } from '../sizes.js';
import { ignoredFlags, type InputKind } from './applicable.js';
import { addLengthFlags, lengthOptions, summaryLines } from './train-length.js';
import { trainLmCommand } from './train-lm.js';
import { trainSeq2seqCommand } from './train-seq2seq.js';
import { addPretrainedFlags, hfData, hfTrain } from './hf.js';
import { defaultProbe, probeProblem, watchAttention, WATCH_FILE } from '../viz/watch.js';

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
    .addOption(vizOption('the built-in set\'s example'))
    .option('--kernel <n>', 'CNN kernel size; window-fc: window size (odd)', int('--kernel', 1), 3)
    .addOption(choice('--cell <kind>', 'RNN cell', ['gru', 'lstm'], 'lstm'))
    .addOption(choice('--tokenize <kind>', 'text input: words (a word vocabulary + character CNN) or bpe (byte-level BPE pieces trained on the data, saved as tokenizer.json)', ['words', 'bpe'], 'words'))
    .addOption(vocabSizeOption());
}

function addDataFlags(cmd: Command, formats: readonly string[], builtins: string): Command {
  return cmd
    .option('--train <file>', 'training data')
    .option('--dev <file>', 'held-out data for evaluation (default: 10% of --train)')
    .option('--builtin <name>', `a generated data set instead of files (${builtins})`)
    .option('--n <count>', 'examples of the built-in set', int('--n', 10), 2000)
    .addOption(choice('--format <name>', 'file format (default: from the extension)', ['auto', ...formats], 'auto'))
    .addOption(choice('--column <name>', 'CoNLL-U tag column', ['upos', 'xpos'], 'upos'))
    .option('--sample-rate <hz>', 'WAV input: rate the features are computed at (files are resampled to it)', int('--sample-rate', 1000), 16000)
    .option('--mel-bins <n>', 'WAV input: mel filters, the size of each frame vector', int('--mel-bins', 1), 80)
    .addOption(choice('--cmvn <kind>', 'WAV input: per-utterance normalisation of each mel channel', ['none', 'mean', 'meanvar'], 'none'))
    .option('--image-size <HxW>', 'image input: resize every image to this (e.g. 32 or 32x48); default: the first image\'s size, others refused', imageSize)
    .addOption(choice('--channels <n>', 'image input: 1 (gray) or 3 (RGB)', ['1', '3'], '3'))
    .option('--patch <n>', 'image input, transformer: side of the square patches', int('--patch', 1), 4);
}

function imageSize(v: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < 1)) throw new InvalidArgumentError('--image-size must be N or HxW (positive integers), e.g. 32 or 32x48');
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/** What the examples are, for which flags apply: media by their front end, else words or vectors. */
function inputKind(examples: unknown[], frontEnd?: data.FrontEnd): InputKind {
  if (frontEnd) return frontEnd.kind === 'image' ? 'image' : 'wav';
  return examples.length && 'tokens' in (examples[0] as object) ? 'text' : 'vectors';
}

/** The log-mel front end from the flags. */
function frontEndOf(o: Record<string, unknown>): data.FrontEnd {
  return data.audioFrontEnd({ sampleRate: o.sampleRate as number, numMelBins: o.melBins as number, normalize: o.cmvn as 'none' });
}

/** Long audio gets truncated attention unless --window says otherwise (lecture: a recording is thousands of frames). */
export const AUDIO_WINDOW = 50;

export function trainerOptions(o: Record<string, unknown>, extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    optimizer: o.optimizer as TrainerOptions['optimizer'], lr: o.lr as number, minLr: o.minLr as number | undefined,
    schedule: o.schedule as TrainerOptions['schedule'], warmup: o.warmup as number, decaySteps: o.decaySteps as number | undefined,
    clip: o.clip as number, accumulate: o.accumulate as number, weightDecay: o.weightDecay as number,
    beta2: o.beta2 as number, evalEvery: o.evalEvery as number, seed: o.seed as number, ...lengthOptions(o), ...extra,
  };
}

/**
 * Runs a session with a progress bar and prints the summary. SIGINT/SIGTERM stop it between
 * steps: the last checkpoint is saved at the step reached and one line says where (exit 130/143).
 */
export async function runAndReport<I extends TaskInstance, E>(task: TaskName, driver: TaskDriver<I, E, unknown, unknown>, train: readonly E[], dev: readonly E[],
  o: Record<string, unknown>, taskOptions: Record<string, unknown>, meta: Record<string, unknown>, trainer = trainerOptions(o)): Promise<SessionResult> {
  const out = o.out as string;
  prepareOutDir('--out', out);
  if (!o.resume && existsSync(join(out, 'last'))) throw new UsageError(`--out ${out} already holds a run; pass --resume to continue it, or choose another directory`);
  const bar = progress({ log: join(out, 'log.jsonl'), quiet: Boolean(o.json) });
  let result: SessionResult;
  try {
    const onEvaluated = watcher(task, o, meta, dev);
    result = await withInterrupts(async (signal) => {
      const r = await trainSessionAsync(driver, train, dev,
        { out, resume: Boolean(o.resume), trainer, task: taskOptions, meta, onEvent: bar.onEvent, evalMax: o.evalMax as number | undefined, onEvaluated, signal });
      if (r.stop?.reason === 'interrupted') throw interrupted(out, r, signal);
      return r;
    });
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
    ? `the latest checkpoint is ${last} (step ${String(readCheckpoint(last).config.step)}); continue with --resume`
    : 'no step was done, nothing was saved');
}

/** --viz [input]: record alpha' for a probe input at every evaluation (qkv viz --model DIR plays it back). */
function watcher(task: TaskName, o: Record<string, unknown>, meta: Record<string, unknown>, dev: readonly unknown[]) {
  if (o.viz === undefined || o.viz === false) return undefined;
  const probe = o.viz === true ? defaultProbe(task, meta, dev, o.blockSize as number | undefined) : String(o.viz);
  const problem = probeProblem(task, probe);
  if (problem) throw new UsageError(`--viz: ${problem}`);
  if ((task === 'tag' || task === 'classify') && o.model !== 'transformer') throw new UsageError(`--viz: a ${String(o.model)} model has no attention to watch (use --model transformer)`);
  return watchAttention(o.out as string, probe);
}

/** The --viz flag of every task; `what` says what its default probe is. */
export function vizOption(what: string): Option {
  return new Option('--viz [input]', `watch training: record the attention weights for this input at every evaluation, in DIR/${WATCH_FILE}, for qkv viz --model DIR (default: ${what})`);
}

interface Labelled { train: unknown[]; dev: unknown[]; meta: Record<string, unknown>; frontEnd?: data.FrontEnd }

function labelled(task: 'tag' | 'classify', o: Record<string, unknown>): Labelled {
  if (o.builtin) {
    if (o.train) throw new UsageError('give --train or --builtin, not both');
    // spoken is a fixed set of WAV files read through the flags' front end; shapes are generated images
    const frontEnd = o.builtin === 'spoken' ? frontEndOf(o) : o.builtin === 'shapes' ? data.SHAPES_FRONT_END : undefined;
    const meta = o.builtin === 'spoken' ? { builtin: o.builtin } : { builtin: o.builtin, n: o.n };
    return { ...builtinExamples(task, o.builtin as string, o.n as number, o.seed as number, { frontEnd }), meta, frontEnd };
  }
  if (!o.train) throw new UsageError('give --train FILE (or --builtin NAME)');
  const source = o.train as string;
  const dir = existsSync(source) && statSync(source).isDirectory();
  const format = dir ? 'image' : detectFormat(source, readTextFile(source), o.format as string);
  const frontEnd = format === 'wav' ? frontEndOf(o) : format === 'image' ? imageFrontEndFor(source, o) : undefined;
  const read = (f: string) => readExamples(task, f, { format: o.format as string, column: o.column as 'upos' | 'xpos', frontEnd });
  const train = read(source);
  if (o.dev) return { train, dev: read(o.dev as string), meta: { train: o.train, dev: o.dev }, frontEnd };
  if (train.length < 2) throw new UsageError(`${source}: needs at least 2 examples to hold one out (or give --dev)`);
  if (frontEnd) {
    // media lists and folder trees are often sorted by label: hold out a random 10%
    const [tr, dev] = data.split(train, [0.9, 0.1], o.seed as number);
    return { train: tr!, dev: dev!, meta: { train: o.train, dev: `10% of ${source} (seed ${String(o.seed)})` }, frontEnd };
  }
  const cut = Math.max(1, Math.floor(train.length * 0.1));
  return { train: train.slice(cut), dev: train.slice(0, cut), meta: { train: o.train, dev: `first ${cut} examples of ${source}` } };
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

function modelOptions(o: Record<string, unknown>, frontEnd?: data.FrontEnd) {
  const audio = frontEnd?.kind === 'logmel';
  if (frontEnd?.kind === 'image') {
    // patches carry their own row and column positions (so RoPE's even head width is no rule
    // here), and the image CNN its 3x3 kernels: pos, window, kernel and cell are not passed
    checkModelFlags({ ...o, pos: 'none' });
    return { kind: o.model, dModel: o.dModel, layers: o.layers, heads: o.heads, dropout: o.dropout, attention: o.attention, patch: o.patch };
  }
  checkModelFlags(o);
  return {
    kind: o.model, dModel: o.dModel, layers: o.layers, heads: o.heads, dropout: o.dropout, attention: o.attention, pos: o.pos,
    window: o.window ?? (audio && o.attention !== 'linear' ? AUDIO_WINDOW : null), kernel: o.kernel, cell: o.cell,
  };
}


export function trainCommand(): Command {
  const train = new Command('train').description('train a model: tag | classify | seq2seq | lm');
  const tag = addModelFlags(addDataFlags(new Command('tag'), FORMATS.filter((f) => f !== 'tsv' && f !== 'image'), 'ambiguity, speech, graph'))
    .description('sequence labeling: one label per word, frame or graph node')
    .option('--word-dropout <x>', 'replace training words by <unk> at this rate', float('--word-dropout', 0, 1), 0.05);
  addPretrainedFlags(addTrainingFlags(tag, { steps: 400, epochs: 3, lr: 5e-3, evalEvery: 100, batch: 32 })).action(async (_o, cmd: Command) => {
    const o = applyConfig(cmd);
    if (o.from) return hfTrain('tag', o, labelled('tag', o), trainerOptions(o));
    checkVocabSize(o);
    const { train: tr, dev, meta, frontEnd } = labelled('tag', o);
    for (const line of ignoredFlags(cmd, String(o.model), inputKind(tr, frontEnd))) console.error(`qkv: ${line}`);
    await runAndReport('tag', tagDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, tr, dev, o,
      { model: modelOptions(o, frontEnd), frontEnd, batchSize: o.batchSize, labelSmoothing: o.labelSmoothing, wordDropout: o.wordDropout, tokenize: o.tokenize, vocabSize: o.vocabSize }, meta);
  });
  const classify = addModelFlags(addDataFlags(new Command('classify'), ['tsv', 'frames', 'graph', 'wav', 'image'], 'spoken, shapes'))
    .description('one label per sequence or image (text<TAB>label, JSONL frames/graphs with "label", WAV or image path<TAB>label, a folder per label of images)');
  addPretrainedFlags(addTrainingFlags(classify, { steps: 400, epochs: 3, lr: 3e-3, evalEvery: 100, batch: 32 })).action(async (_o, cmd: Command) => {
    const o = applyConfig(cmd);
    if (o.from) return hfTrain('classify', o, hfData(o, () => labelled('classify', o)), trainerOptions(o));
    checkVocabSize(o);
    const { train: tr, dev, meta, frontEnd } = labelled('classify', o);
    for (const line of ignoredFlags(cmd, String(o.model), inputKind(tr, frontEnd))) console.error(`qkv: ${line}`);
    await runAndReport('classify', classifyDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, tr, dev, o,
      { model: modelOptions(o, frontEnd), frontEnd, batchSize: o.batchSize, labelSmoothing: o.labelSmoothing, tokenize: o.tokenize, vocabSize: o.vocabSize }, meta);
  });
  return train.addCommand(tag).addCommand(classify).addCommand(trainSeq2seqCommand()).addCommand(trainLmCommand());
}
