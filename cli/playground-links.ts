// Each experiment of the report, as settings of the playground (`qkv playground --experiment
// NAME`): the same comparison on one of the playground's tasks, to train and watch in the tab.
// The settings are the playground's own address (web/playground/address.ts): task = ambiguity |
// marker | graph | reverse, and a.KEY / b.KEY for the left and right models' settings (model =
// fc | window-fc | cnn | rnn | transformer, relevance, normalizer, linear, heads, pos, window, ...).

/** `qkv playground`'s port when --port is not given (another free one when it is taken), so the
 * report can link to the served page: http://127.0.0.1:PLAYGROUND_PORT/?task=... */
export const PLAYGROUND_PORT = 8471;

export interface PlaygroundLink {
  /** The playground's address query, key by key. */
  settings: Record<string, string>;
  /** What the link shows, and how it differs from the experiment when it does. */
  note: string;
}

const both = (model: string, a: Record<string, string> = {}, b: Record<string, string> = {}): Record<string, string> => ({
  'a.model': model, 'b.model': model,
  ...Object.fromEntries(Object.entries(a).map(([k, v]) => [`a.${k}`, v])),
  ...Object.fromEntries(Object.entries(b).map(([k, v]) => [`b.${k}`, v])),
});

const LINKS: Record<string, PlaygroundLink> = {
  'fc-vs-attention': { settings: { task: 'ambiguity', ...both('transformer', { model: 'fc' }) }, note: 'the same two taggers on "I saw a saw"' },
  window: { settings: { task: 'marker', ...both('transformer', { model: 'window-fc' }) }, note: 'a fully-connected network over a ±1 window against self-attention on the far marker' },
  relevance: { settings: { task: 'ambiguity', ...both('transformer', { relevance: 'dot' }, { relevance: 'additive' }) }, note: 'dot-product against additive relevance' },
  heads: { settings: { task: 'ambiguity', ...both('transformer', { heads: '1' }, { heads: '4' }) }, note: 'one head against four at the same width' },
  positions: { settings: { task: 'marker', ...both('transformer', { pos: 'none' }, { pos: 'sinusoidal' }) }, note: 'no positions against sinusoidal ones, on the far marker (the experiment uses its own order tasks)' },
  truncated: { settings: { task: 'marker', ...both('transformer', { window: '0' }, { window: '3' }) }, note: 'whole-sequence against truncated (window 3) attention, on the far marker (the experiment uses speech frames)' },
  graph: { settings: { task: 'graph', ...both('transformer', { model: 'fc' }) }, note: 'a per-node network against attention along the edges' },
  'rnn-vs-attention': { settings: { task: 'marker', ...both('transformer', { model: 'rnn' }) }, note: 'an RNN against self-attention on the far marker' },
  'linear-vs-softmax': { settings: { task: 'ambiguity', ...both('transformer', { linear: 'false' }, { linear: 'true' }) }, note: 'softmax against linear attention on "I saw a saw"' },
  'cnn-vs-attention-data': { settings: { task: 'ambiguity', ...both('transformer', { model: 'cnn' }) }, note: 'a CNN against self-attention on "I saw a saw" (the experiment uses images, which the playground does not train)' },
};

/** The experiments with a playground comparison. */
export const PLAYGROUND_EXPERIMENTS: readonly string[] = Object.keys(LINKS);

/** The playground settings of an experiment, with `query` (`?task=...`) to append to the
 * playground's address and `url`, the address on the default port; null for one that has none. */
export function playgroundLink(name: string): (PlaygroundLink & { query: string; url: string }) | null {
  const link = LINKS[name];
  if (!link) return null;
  const query = `?${new URLSearchParams(link.settings).toString()}`;
  return { ...link, query, url: `http://127.0.0.1:${PLAYGROUND_PORT}/${query}` };
}
