// `qkv train lm`: a GPT on a plain text file, with nanoGPT's flag names (train.py and
// config/train_shakespeare_char.py, spelled --kebab-case) and its "baby GPT" CPU defaults:
//   nanoGPT                        qkv
//   block_size 64                  --block-size 64
//   batch_size 12                  --batch-size 12
//   n_layer 4, n_head 4, n_embd 128   --n-layer, --n-head, --n-embd
//   dropout 0.0, bias False        --dropout 0, --bias / --no-bias (default off)
//   max_iters 2000                 --max-iters (default: max(2000 steps, 1 epoch of the text), see --help)
//   learning_rate 1e-3, min_lr 1e-4   --lr, --min-lr
//   warmup_iters 100, lr_decay_iters   --warmup-iters, --lr-decay-iters (default: --max-iters)
//   decay_lr True                  --no-decay-lr for a constant rate
//   weight_decay 0.1, beta1 0.9, beta2 0.99   --weight-decay, --beta1, --beta2 (AdamW)
//   grad_clip 1.0                  --clip (0: off)
//   gradient_accumulation_steps 1  --accumulate
//   eval_interval 250, eval_iters 20   --eval-interval, --eval-iters
//   seed 1337                      --seed
//   out_dir                        --out (default out-lm); --resume continues DIR/last
// The learning rate follows nanoGPT's get_lr (linear warmup, cosine to min_lr at
// lr_decay_iters, min_lr after), and weight decay applies to matrices only (tensors of 2 or
// more dimensions), not biases and LayerNorm weights, as nanoGPT's configure_optimizers.
import { Command } from 'commander';
import { nn, QkvError, readTextFile, LM_TOKENIZE, lmDriver, type LmOptions, type LmTokenize, type TrainerOptions } from '../../src/index.js';
import { applyConfig, attentionFlag, checkVocabSize, choice, float, int, UsageError, vocabSizeOption } from '../shared.js';
import { addLengthFlags, lengthOptions } from './train-length.js';
import { runAndReport, vizOption } from './train-common.js';
import { checkSizes } from '../sizes.js';
import { addPretrainedFlags, hfTrain } from './hf.js';

export function lmTrainerOptions(o: Record<string, unknown>): TrainerOptions {
  return {
    optimizer: 'adamw', lr: o.lr as number, minLr: o.minLr as number, weightDecay: o.weightDecay as number, decay: 'matrices',
    beta1: o.beta1 as number, beta2: o.beta2 as number, schedule: o.decayLr === false ? 'constant' : 'cosine',
    warmup: o.warmupIters as number, decaySteps: o.lrDecayIters as number | undefined,
    clip: o.clip as number, accumulate: o.accumulate as number,
    evalEvery: o.evalInterval as number, seed: o.seed as number, ...lengthOptions(o),
  };
}

export function trainLmCommand(): Command {
  const cmd = addLengthFlags(new Command('lm'), { stepsFlag: '--max-iters', steps: 2000, epochs: 1, evalMax: false })
    .description('a GPT language model on a plain text file (characters by default), like nanoGPT\'s shakespeare_char')
    .option('--data <file>', 'the text to train on (UTF-8); the first 90% trains, the last 10% validates')
    .option('--out <dir>', 'run directory: checkpoints in DIR/best and DIR/last, log in DIR/log.jsonl', 'out-lm')
    .option('--resume', 'continue the run in --out from its last checkpoint', false)
    .addOption(choice('--tokenize <kind>', 'tokens: characters (nanoGPT), words, or bpe (byte-level BPE trained on the text, saved as tokenizer.json)', LM_TOKENIZE, 'chars'))
    .addOption(vocabSizeOption())
    .option('--block-size <n>', 'context length in tokens', int('--block-size', 1), 64)
    .option('--batch-size <n>', 'sequences per batch', int('--batch-size', 1), 12)
    .option('--n-layer <n>', 'transformer blocks', int('--n-layer', 1), 4)
    .option('--n-head <n>', 'attention heads', int('--n-head', 1), 4)
    .option('--n-embd <n>', 'embedding width (a multiple of --n-head)', int('--n-embd', 1), 128)
    .option('--dropout <x>', 'dropout', float('--dropout', 0, 1, true), 0)
    .option('--bias', 'biases in Linear and LayerNorm layers (nanoGPT default: off)', false)
    .option('--no-bias', 'no biases (the default)')
    .addOption(choice('--attention <kind>', 'attention: softmax (GPT), relu, additive, or linear (decodes as an RNN)', nn.ATTENTION_KINDS, 'softmax'))
    .option('--lr <x>', 'peak learning rate (nanoGPT learning_rate)', float('--lr', 0), 1e-3)
    .option('--min-lr <x>', 'learning rate at the end of the cosine decay', float('--min-lr', 0), 1e-4)
    .option('--warmup-iters <n>', 'linear warmup steps', int('--warmup-iters', 0), 100)
    .option('--lr-decay-iters <n>', 'step where the cosine decay reaches --min-lr (default: the run\'s length in steps)', int('--lr-decay-iters', 1))
    .option('--no-decay-lr', 'keep the learning rate constant (nanoGPT decay_lr=False)')
    .option('--weight-decay <x>', 'AdamW weight decay', float('--weight-decay', 0), 0.1)
    .option('--beta1 <x>', 'AdamW beta1', float('--beta1', 0, 0.999999), 0.9)
    .option('--beta2 <x>', 'AdamW beta2', float('--beta2', 0, 0.999999), 0.99)
    .option('--clip <x>', 'clip the gradient norm to this (nanoGPT grad_clip; 0: off)', float('--clip', 0), 1)
    .option('--accumulate <n>', 'micro-batches per optimizer step (nanoGPT gradient_accumulation_steps)', int('--accumulate', 1), 1)
    .option('--eval-interval <n>', 'evaluate (and checkpoint) every N steps', int('--eval-interval', 1), 250)
    .option('--eval-iters <n>', 'batches per split in each evaluation', int('--eval-iters', 1), 20)
    .option('--seed <n>', 'random seed (batches, initialisation, dropout)', int('--seed', 0), 1337)
    .addOption(vizOption('the text\'s first words, at most --block-size characters; the prompt\'s causal self-attention is recorded, not generation'))
    .option('--json', 'print a machine-readable summary at the end', false)
    .option('--config <file>', 'JSON file of flag values (flags on the command line win)');
  return addPretrainedFlags(cmd)
    .action(async (_o, cmd: Command) => {
      const o = applyConfig(cmd);
      const trainer = lmTrainerOptions(o); // length flags checked before the data is read
      if (!o.data) throw new UsageError('give --data FILE: the plain text to train on (e.g. nanoGPT\'s shakespeare input.txt)');
      if (o.from) {
        const text = readTextFile(o.data as string);
        const cut = Math.floor(text.length * 0.9);
        const blockSize = cmd.getOptionValueSource('blockSize') === 'default' ? undefined : o.blockSize;
        return hfTrain('lm', { ...o, blockSize }, { train: text.slice(0, cut), dev: text.slice(cut) }, trainer);
      }
      checkVocabSize(o);
      const text = readTextFile(o.data as string);
      const nEmbd = o.nEmbd as number;
      const nHead = o.nHead as number;
      if (nEmbd % nHead) throw new UsageError(`--n-embd ${nEmbd} must be a multiple of --n-head ${nHead}`);
      const [nLayer, block, batch] = [o.nLayer as number, o.blockSize as number, o.batchSize as number];
      const vocab = new Set(o.tokenize === 'words' ? text.split(/\s+/) : text).size + 1;
      checkSizes({ '--n-embd': nEmbd, '--n-layer': nLayer, '--block-size': block, '--batch-size': batch },
        12 * nLayer * nEmbd * nEmbd + nEmbd * (vocab + block), batch * block * (20 * nLayer * nEmbd + 3 * vocab));
      const taskOptions: LmOptions = {
        tokenize: o.tokenize as LmTokenize, vocabSize: o.vocabSize as number | undefined, batchSize: batch, evalIters: o.evalIters as number,
        model: { blockSize: block, nLayer, nHead, nEmbd, dropout: o.dropout as number, bias: Boolean(o.bias), attention: attentionFlag(o) },
      };
      // prompt: where `qkv viz` starts (the text's first words)
      const meta = { data: o.data, characters: [...text].length, split: 'first 90% train, last 10% validation', prompt: [...(text.split('\n').find((l) => l.trim()) ?? '').trimStart()].slice(0, 12).join('') };
      try {
        await runAndReport('lm', lmDriver, [text], [], o, taskOptions, meta, trainer);
      } catch (e) {
        // the task speaks of "the training split": say which file it came from
        if (e instanceof QkvError && /^lm: the (training|validation) split|^lm: the training text/.test(e.message)) throw new UsageError(`--data ${String(o.data)}: ${e.message.slice(4)}`);
        throw e;
      }
    });
}
