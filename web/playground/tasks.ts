// The playground's tasks: the lecture's examples as qkv's own generated data sets, small enough
// to train in a browser tab in seconds. Every set comes from a seed, so both models of a
// comparison (and a reload of the page) see the same examples.
import { data } from '../../src/browser.js';

export type PlayTaskName = 'ambiguity' | 'marker' | 'graph' | 'reverse';

export interface PlayTask {
  name: PlayTaskName;
  title: string;
  /** What makes it a test, in a sentence (shown on the page). */
  about: string;
  /** qkv's task: a label per position, or a new sequence. */
  task: 'tag' | 'seq2seq';
  /** How the probe is given: a typed sentence, or the number of a held-out example. */
  probe: 'sentence' | 'example';
  /** The probe the page starts with. */
  example: string;
  /** Written into the saved config.json's meta (qkv viz picks its default input by it). */
  builtin: string;
}

export const PLAY_TASKS: readonly PlayTask[] = [
  {
    name: 'ambiguity', title: '"I saw a saw" (part-of-speech tags)', task: 'tag', probe: 'sentence', example: 'I saw a saw', builtin: 'ambiguity',
    about: 'saw, can, fly, watch, ... are a VERB or a NOUN, 50/50: only the neighbours decide. One word alone (FC) can only guess.',
  },
  {
    name: 'marker', title: 'the far marker', task: 'tag', probe: 'sentence', example: 'swap w1 w9 w3 w12 w4 w15 w0 w8 w2 w10', builtin: 'marker',
    about: 'The first word, "same" or "swap", decides every later label, however far away: a window or a small CNN cannot see it.',
  },
  {
    name: 'graph', title: 'the graph (node classes)', task: 'tag', probe: 'example', example: '0', builtin: 'graph',
    about: 'Noisy node features and edges; a node\'s class is its community\'s. Its own features give ~66%, its neighbours ~85%.',
  },
  {
    name: 'reverse', title: 'a tiny sequence-to-sequence (reverse)', task: 'seq2seq', probe: 'sentence', example: 'abcdef', builtin: 'reverse',
    about: 'Letters a-j in, the same letters reversed out: an encoder-decoder Transformer (the model choice is its attention).',
  },
];

export const playTask = (name: string): PlayTask => {
  const t = PLAY_TASKS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown task "${name}" (choose from ${PLAY_TASKS.map((x) => x.name).join(', ')})`);
  return t;
};

export interface PlayData {
  train: data.TaggedExample[] | data.PairExample[];
  dev: data.TaggedExample[] | data.PairExample[];
}

/** The task's examples from `seed`, split train / dev (the last 80 held out). */
export function playData(name: PlayTaskName, seed: number): PlayData {
  const all: data.TaggedExample[] | data.PairExample[] =
    name === 'ambiguity' ? data.builtinDataset('ambiguity', { seed, n: 880, minLength: 4, maxLength: 10 })
      : name === 'marker' ? data.generateMarker(seed, 680, { minLength: 8, maxLength: 14 })
        : name === 'graph' ? data.builtinDataset('graph', { seed, n: 480 })
          : data.builtinDataset('reverse', { seed, n: 880, minLength: 3, maxLength: 8 });
  const cut = all.length - 80;
  return { train: all.slice(0, cut), dev: all.slice(cut) } as PlayData;
}
