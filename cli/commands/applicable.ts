// Flags of `qkv train tag|classify` that only some models or inputs read. One given explicitly
// (on the command line or in --config) where nothing reads it gets a line on stderr saying so:
// an option is never silently ignored (`--cell gru` on an FC model, `--pos` on image patches).
// A warning, not an error, so one set of flags can drive a sweep over models.
import type { Command } from 'commander';

/** What the training data is: words (text), frames or graph nodes (sequences of vectors), WAV audio, images. */
export type InputKind = 'text' | 'vectors' | 'wav' | 'image';

interface Rule {
  attr: string;
  applies: (model: string, input: InputKind) => boolean;
  /** Where the flag applies, said to the user. */
  only: string;
}

const transformer = (m: string) => m === 'transformer';
const RULES: Rule[] = [
  { attr: 'heads', applies: transformer, only: '--model transformer' },
  { attr: 'attention', applies: transformer, only: '--model transformer' },
  { attr: 'pos', applies: (m, i) => transformer(m) && i !== 'image', only: '--model transformer on sequences (image patches have their own learned row and column positions)' },
  { attr: 'window', applies: (m, i) => transformer(m) && i !== 'image', only: '--model transformer on sequences (not image patches)' },
  { attr: 'kernel', applies: (m, i) => (m === 'cnn' || m === 'window-fc') && i !== 'image', only: '--model cnn or window-fc on sequences (the image CNN uses 3x3 kernels)' },
  { attr: 'cell', applies: (m) => m === 'rnn', only: '--model rnn' },
  { attr: 'patch', applies: (m, i) => transformer(m) && i === 'image', only: 'image input with --model transformer' },
  { attr: 'imageSize', applies: (_m, i) => i === 'image', only: 'image input' },
  { attr: 'channels', applies: (_m, i) => i === 'image', only: 'image input' },
  { attr: 'sampleRate', applies: (_m, i) => i === 'wav', only: 'WAV input' },
  { attr: 'melBins', applies: (_m, i) => i === 'wav', only: 'WAV input' },
  { attr: 'cmvn', applies: (_m, i) => i === 'wav', only: 'WAV input' },
  { attr: 'tokenize', applies: (_m, i) => i === 'text', only: 'text input (words)' },
];

const flagOf = (attr: string) => `--${attr.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The flags given explicitly that this model and input do not read, one line each (stderr gets them). */
export function ignoredFlags(cmd: Command, model: string, input: InputKind): string[] {
  const what = input === 'vectors' ? 'frames/graph input' : `${input} input`;
  return RULES.filter((r) => {
    const source = cmd.getOptionValueSource(r.attr);
    return (source === 'cli' || source === 'config') && !r.applies(model, input);
  }).map((r) => `${flagOf(r.attr)} is ignored: it applies only to ${r.only}, and this run trains --model ${model} on ${what}`);
}
