// `qkv train seq2seq`: an encoder-decoder Transformer on `source<TAB>target` pairs (split into
// characters or words) or on a built-in set (reverse, sort, copy). The defaults train the
// built-in reverse task to ~100% exact match on held-out strings:
//   qkv train seq2seq --builtin reverse --out runs/reverse
// With --from WHISPER_DIR it fine-tunes Whisper on `WAV path<TAB>transcript` lines (cli/commands/hf.ts).
import { Command } from 'commander';
import { data, nn, seq2seqDriver, type Seq2SeqModelConfig, type Seq2SeqOptions } from '../../src/index.js';
import { builtinExamples, readExamples } from '../datasets.js';
import { applyConfig, attentionFlag, checkVocabSize, choice, float, int, MAX_BUILTIN_N, UsageError, vocabSizeOption } from '../shared.js';
import { addTrainingFlags, checkModelFlags, runAndReport, trainerOptions, vizOption } from './train-common.js';
import { addPretrainedFlags, hfSpeechData, hfTrain } from './hf.js';

const SEQ2SEQ_BUILTINS = ['reverse', 'sort', 'copy'];

function pairs(o: Record<string, unknown>): { train: data.PairExample[]; dev: data.PairExample[]; meta: Record<string, unknown> } {
  if (o.builtin) {
    if (o.train) throw new UsageError('give --train or --builtin, not both');
    return { ...builtinExamples('seq2seq', o.builtin as string, o.n as number, o.seed as number), meta: { builtin: o.builtin, n: o.n } };
  }
  if (!o.train) throw new UsageError('give --train FILE of source<TAB>target lines (or --builtin reverse|sort|copy)');
  // bpe reads characters: the exact text, which the task's tokenizer cuts into pieces
  const read = (f: string) => readExamples('seq2seq', f, { format: o.format as string, tokenize: o.tokenize === 'words' ? 'words' : 'chars' });
  const train = read(o.train as string);
  if (o.dev) return { train, dev: read(o.dev as string), meta: { train: o.train, dev: o.dev, tokenize: o.tokenize } };
  if (train.length < 2) throw new UsageError(`${String(o.train)}: needs at least 2 pairs to hold one out (or give --dev)`);
  const cut = Math.max(1, Math.floor(train.length * 0.1));
  return { train: train.slice(cut), dev: train.slice(0, cut), meta: { train: o.train, dev: `first ${cut} pairs of ${String(o.train)}`, tokenize: o.tokenize } };
}

export function trainSeq2seqCommand(): Command {
  const cmd = new Command('seq2seq')
    .description('sequence to sequence with an encoder-decoder Transformer (source<TAB>target lines)')
    .option('--train <file>', 'training pairs, source<TAB>target per line')
    .option('--dev <file>', 'held-out pairs for evaluation (default: 10% of --train)')
    .addOption(choice('--builtin <name>', 'a generated data set instead of files', SEQ2SEQ_BUILTINS))
    .option('--n <count>', 'examples of the built-in set', int('--n', 10, MAX_BUILTIN_N, 'a built-in set is generated in memory'), 4000)
    .addOption(choice('--format <name>', 'file format (default: from the extension)', ['auto', 'tsv'], 'auto'))
    .addOption(choice('--tokenize <kind>', 'split each side into characters, whitespace-separated words, or bpe pieces (one byte-level BPE for both sides, saved as tokenizer.json)', ['chars', 'words', 'bpe'], 'chars'))
    .addOption(vocabSizeOption())
    .addOption(choice('--attention <kind>', 'attention of every layer', nn.ATTENTION_KINDS, 'softmax'))
    .addOption(choice('--pos <kind>', 'positional encoding (rope: rotary, inside self-attention)', nn.POSITION_KINDS, 'sinusoidal'))
    .option('--d-model <n>', 'width of the model', int('--d-model', 2), 64)
    .option('--layers <n>', 'encoder layers and decoder layers (each)', int('--layers', 1), 2)
    .option('--heads <n>', 'attention heads (must divide --d-model)', int('--heads', 1), 4)
    .option('--ff <n>', 'width of the feed-forward sublayer (default: 2 x --d-model)', int('--ff', 1))
    .option('--dropout <x>', 'dropout (the built-in sets need none; try 0.1 on real data)', float('--dropout', 0, 1), 0)
    .option('--post-ln', 'layer norm after each residual sum (the original paper) instead of before', false)
    .addOption(vizOption('the built-in set\'s example, or the first held-out pair; "SOURCE => TARGET" (or a tab) teacher-forces TARGET, a bare SOURCE records the greedy output of each evaluation; encoder self-attention and cross-attention are recorded'));
  return addPretrainedFlags(addTrainingFlags(cmd, { steps: 600, epochs: 3, lr: 3e-3, evalEvery: 100, batch: 32 })).action(async (_o, c: Command) => {
    const o = applyConfig(c);
    if (o.from) return hfTrain('seq2seq', o, hfSpeechData(o), trainerOptions(o)); // Whisper on WAV path<TAB>transcript lines
    checkVocabSize(o);
    const dModel = o.dModel as number;
    checkModelFlags({ ...o, model: 'transformer' });
    const { train, dev, meta } = pairs(o);
    const options: Seq2SeqOptions = {
      model: {
        dModel, layers: o.layers as number, heads: o.heads as number, ff: (o.ff as number | undefined) ?? 2 * dModel, dropout: o.dropout as number,
        attention: attentionFlag(o), pos: o.pos as Seq2SeqModelConfig['pos'], normFirst: !o.postLn,
      },
      tokenize: o.tokenize as Seq2SeqOptions['tokenize'], vocabSize: o.vocabSize as number | undefined, batchSize: o.batchSize as number, labelSmoothing: o.labelSmoothing as number,
    };
    await runAndReport('seq2seq', seq2seqDriver, train, dev, o, options, meta);
  });
}
