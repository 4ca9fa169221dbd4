// `qkv train <task>`: train a model on a file or a built-in set, with checkpoints in --out.
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import {
  classifyDriver, data, readTextFile, nn, tagDriver, MODEL_KINDS, type ClassifyOptions, type ModelConfig, type ModelKind, type TagTrainOptions,
} from '../../src/index.js';
import { builtinExamples, detectFormat, FORMATS, readExamples, type ExampleOf } from '../datasets.js';
import { imageFrontEndFor } from '../media.js';
import { applyConfig, attentionFlag, checkVocabSize, choice, float, int, MAX_BUILTIN_N, UsageError, vocabSizeOption } from '../shared.js';
import { ignoredFlags, type InputKind } from './applicable.js';
import { addTrainingFlags, checkModelFlags, noteWhenTraining, runAndReport, trainerOptions, vizOption } from './train-common.js';
import { trainLmCommand } from './train-lm.js';
import { trainSeq2seqCommand } from './train-seq2seq.js';
import { addPretrainedFlags, hfData, hfTrain } from './hf.js';

/** Model flags of the tag and classify tasks. */
function addModelFlags(cmd: Command): Command {
  return cmd
    .addOption(choice('--model <kind>', 'model body', MODEL_KINDS, 'transformer'))
    .addOption(choice('--attention <kind>', 'attention of the transformer', nn.ATTENTION_KINDS, 'softmax'))
    .addOption(choice('--pos <kind>', 'positional encoding of the transformer', nn.POSITION_KINDS, 'rope'))
    .option('--d-model <n>', 'width of the model', int('--d-model', 2), 64)
    .option('--layers <n>', 'layers', int('--layers', 1), 2)
    .option('--heads <n>', 'attention heads', int('--heads', 1), 4)
    .option('--dropout <x>', 'dropout', float('--dropout', 0, 1, true), 0.1)
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
    .option('--n <count>', 'examples of the built-in set', int('--n', 10, MAX_BUILTIN_N, 'a built-in set is generated in memory'), 2000)
    .addOption(choice('--format <name>', 'file format (default: from the extension)', ['auto', ...formats], 'auto'))
    .addOption(choice('--column <name>', 'CoNLL-U tag column', ['upos', 'xpos'], 'upos'))
    .option('--sample-rate <hz>', 'WAV input: rate the features are computed at (files are resampled to it)', int('--sample-rate', 1000, 384000, 'files are resampled to it: a higher rate multiplies every clip'), 16000)
    .option('--mel-bins <n>', 'WAV input: mel filters, the size of each frame vector', int('--mel-bins', 1, 1024, 'each frame is this many values'), 80)
    .addOption(choice('--cmvn <kind>', 'WAV input: per-utterance normalisation of each mel channel (meanvar: what a tuned run uses; none: Kaldi fbank values as they are)', ['none', 'mean', 'meanvar'], 'meanvar'))
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

interface Labelled<E> { train: E[]; dev: E[]; meta: Record<string, unknown>; frontEnd?: data.FrontEnd }

function labelled<T extends 'tag' | 'classify'>(task: T, o: Record<string, unknown>): Labelled<ExampleOf[T]> {
  if (o.builtin) {
    if (o.train) throw new UsageError('give --train or --builtin, not both');
    // spoken is a fixed set of WAV files read through the flags' front end; shapes are generated images
    const frontEnd = o.builtin === 'spoken' ? frontEndOf(o) : o.builtin === 'shapes' ? data.SHAPES_FRONT_END : o.builtin === 'relations' ? data.RELATIONS_FRONT_END : undefined;
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
    // media lists and folder trees are often sorted by label: hold out a random 10%, at least one
    const held = Math.max(1, train.length - Math.round(train.length * 0.9));
    const [tr, dev] = data.split(train, [1 - held / train.length, held / train.length], o.seed as number);
    if (held > train.length * 0.1) noteWhenTraining(o, [`${source} has only ${train.length} examples: ${held} held out at random for dev, ${tr!.length} to train on (give --dev FILE for a real held-out set)`]);
    return { train: tr!, dev: dev!, meta: { train: o.train, dev: `${held} of ${source} at random (seed ${String(o.seed)})` }, frontEnd };
  }
  const cut = Math.max(1, Math.floor(train.length * 0.1));
  return { train: train.slice(cut), dev: train.slice(0, cut), meta: { train: o.train, dev: `first ${cut} examples of ${source}` } };
}

/** The model flags as the task's model options (typed from here to the model). */
function modelOptions(o: Record<string, unknown>, frontEnd?: data.FrontEnd): Partial<ModelConfig> {
  const audio = frontEnd?.kind === 'logmel';
  const shared = {
    kind: o.model as ModelKind, dModel: o.dModel as number, layers: o.layers as number, heads: o.heads as number, dropout: o.dropout as number,
    attention: attentionFlag(o),
  };
  if (frontEnd?.kind === 'image') {
    // patches carry their own row and column positions (so RoPE's even head width is no rule
    // here), and the image CNN its 3x3 kernels: pos, window, kernel and cell are not passed
    checkModelFlags({ ...o, pos: 'none' });
    return { ...shared, patch: o.patch as number | undefined };
  }
  checkModelFlags(o);
  return {
    ...shared, pos: o.pos as nn.PositionKind, kernel: o.kernel as number, cell: o.cell as ModelConfig['cell'],
    window: (o.window as number | undefined) ?? (audio && nn.attentionKind(shared.attention, '--attention').honours.window ? AUDIO_WINDOW : null),
  };
}


export function trainCommand(): Command {
  const train = new Command('train').description('train a model: tag | classify | seq2seq | lm');
  const tag = addModelFlags(addDataFlags(new Command('tag'), FORMATS.filter((f) => f !== 'tsv' && f !== 'image'), 'ambiguity, speech, graph'))
    .description('sequence labeling: one label per word, frame or graph node')
    .option('--word-dropout <x>', 'replace training words by <unk> at this rate', float('--word-dropout', 0, 1), 0.05)
    .option('--bucket', 'length-bucketed batches: examples of similar length together (less padding, the same steps per epoch; batches are then not uniform draws)', false);
  addPretrainedFlags(addTrainingFlags(tag, { steps: 400, epochs: 3, lr: 5e-3, evalEvery: 100, batch: 32 })).action(async (_o, cmd: Command) => {
    const o = applyConfig(cmd);
    if (o.from) return hfTrain('tag', o, labelled('tag', o), trainerOptions(o));
    checkVocabSize(o);
    const { train: tr, dev, meta, frontEnd } = labelled('tag', o);
    noteWhenTraining(o, ignoredFlags(cmd, String(o.model), inputKind(tr, frontEnd)));
    const options: TagTrainOptions = {
      model: modelOptions(o, frontEnd), frontEnd, batchSize: o.batchSize as number, labelSmoothing: o.labelSmoothing as number, wordDropout: o.wordDropout as number,
      bucket: Boolean(o.bucket), tokenize: o.tokenize as TagTrainOptions['tokenize'], vocabSize: o.vocabSize as number | undefined,
    };
    await runAndReport('tag', tagDriver, tr, dev, o, options, meta);
  });
  const classify = addModelFlags(addDataFlags(new Command('classify'), ['tsv', 'frames', 'graph', 'wav', 'image'], 'spoken, shapes'))
    .description('one label per sequence or image (text<TAB>label, JSONL frames/graphs with "label", WAV or image path<TAB>label, a folder per label of images)');
  addPretrainedFlags(addTrainingFlags(classify, { steps: 400, epochs: 3, lr: 3e-3, evalEvery: 100, batch: 32 })).action(async (_o, cmd: Command) => {
    const o = applyConfig(cmd);
    if (o.from) return hfTrain('classify', o, hfData(o, () => labelled('classify', o)), trainerOptions(o));
    checkVocabSize(o);
    const { train: tr, dev, meta, frontEnd } = labelled('classify', o);
    noteWhenTraining(o, ignoredFlags(cmd, String(o.model), inputKind(tr, frontEnd)));
    const options: ClassifyOptions = {
      model: modelOptions(o, frontEnd), frontEnd, batchSize: o.batchSize as number, labelSmoothing: o.labelSmoothing as number,
      tokenize: o.tokenize as ClassifyOptions['tokenize'], vocabSize: o.vocabSize as number | undefined,
    };
    await runAndReport('classify', classifyDriver, tr, dev, o, options, meta);
  });
  return train.addCommand(tag).addCommand(classify).addCommand(trainSeq2seqCommand()).addCommand(trainLmCommand());
}
