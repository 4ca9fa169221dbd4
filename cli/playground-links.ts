// Each experiment of the report, as settings of the playground (`qkv playground`, or its
// static build next to the report): a link that opens the same comparison on one of the
// playground's tasks, to train and watch in the tab.
//
// The query: task = ambiguity | marker | graph | seq2seq (the lecture's "I saw a saw", the far
// marker, the graph, a tiny sequence-to-sequence); model = fc | window | cnn | rnn | attention,
// two comma-separated for two models side by side. Every setting (relevance = dot | additive,
// normalizer = softmax | relu, heads, pos = none | sinusoidal | learned | rope, window = N | all,
// linear = true | false) is one value for both models or two comma-separated, left and right.

/** The playground page, relative to the report (its static build is copied beside it). */
export const PLAYGROUND_PAGE = 'playground.html';

export interface PlaygroundLink {
  settings: Record<string, string>;
  /** What the link shows, and how it differs from the experiment when it does. */
  note: string;
}

const LINKS: Record<string, PlaygroundLink> = {
  'fc-vs-attention': { settings: { task: 'ambiguity', model: 'fc,attention' }, note: 'the same two taggers on "I saw a saw"' },
  window: { settings: { task: 'marker', model: 'window,attention', window: '3,all' }, note: 'a 3-wide window against self-attention on the far marker' },
  relevance: { settings: { task: 'ambiguity', model: 'attention,attention', relevance: 'dot,additive' }, note: 'dot-product against additive relevance' },
  heads: { settings: { task: 'ambiguity', model: 'attention,attention', heads: '1,4' }, note: 'one head against four at the same width' },
  positions: { settings: { task: 'marker', model: 'attention,attention', pos: 'none,sinusoidal' }, note: 'no positions against sinusoidal ones, on the far marker (the experiment uses its own order tasks)' },
  truncated: { settings: { task: 'marker', model: 'attention,attention', window: 'all,3' }, note: 'whole-sequence against truncated (window 3) attention, on the far marker (the experiment uses speech frames)' },
  graph: { settings: { task: 'graph', model: 'fc,attention' }, note: 'a per-node network against attention along the edges' },
  'rnn-vs-attention': { settings: { task: 'marker', model: 'rnn,attention' }, note: 'an RNN against self-attention on the far marker' },
  'linear-vs-softmax': { settings: { task: 'ambiguity', model: 'attention,attention', linear: 'false,true' }, note: 'softmax against linear attention on "I saw a saw"' },
  'cnn-vs-attention-data': { settings: { task: 'ambiguity', model: 'cnn,attention' }, note: 'a CNN against self-attention on "I saw a saw" (the experiment uses images, which the playground does not train)' },
};

/** The playground link of an experiment, or null for one that has none. */
export function playgroundLink(name: string): (PlaygroundLink & { href: string }) | null {
  const link = LINKS[name];
  if (!link) return null;
  return { ...link, href: `${PLAYGROUND_PAGE}?${new URLSearchParams(link.settings).toString()}` };
}
