// The built-in data sets, generated from a seed (no files): see each file for what the set is
// and why it is a good test.
//   ambiguity  tag       "I saw a saw": a word's tag depends on its neighbours
//   reverse    seq2seq   target = source reversed
//   sort       seq2seq   target = source sorted
//   copy       seq2seq   target = source
//   speech     tag       frames of phoneme-like segments, a label per frame
//   graph      tag       community labels of graph nodes, from noisy features + edges
//   shapes     classify  16×16 images of a plus, an ×, a square or a disk anywhere (CNN vs patch attention)
//   relations  classify  16×16 images of one shape (its kind) or two (same / different kind)
import { QkvError } from '../../core/errors.js';
import type { ClassifiedExample, PairExample, TaggedExample } from '../types.js';
import { type AmbiguityOptions, generateAmbiguity } from './ambiguity.js';
import { type GraphOptions, generateGraph } from './graph.js';
import { type SpeechOptions, generateSpeech } from './speech.js';
import { type SymbolOptions, generateSymbols } from './symbols.js';
import { type ShapesOptions, generateShapes } from './shapes.js';
import { type RelationsOptions, generateRelations } from './relations.js';

export * from './ambiguity.js';
export * from './graph.js';
export * from './long-range.js';
export * from './speech.js';
export * from './symbols.js';
export * from './shapes.js';
export * from './relations.js';

/** The examples and options of each built-in set. */
export interface BuiltinSets {
  ambiguity: { examples: TaggedExample[]; options: AmbiguityOptions };
  reverse: { examples: PairExample[]; options: SymbolOptions };
  sort: { examples: PairExample[]; options: SymbolOptions };
  copy: { examples: PairExample[]; options: SymbolOptions };
  speech: { examples: TaggedExample[]; options: SpeechOptions };
  graph: { examples: TaggedExample[]; options: GraphOptions };
  shapes: { examples: ClassifiedExample[]; options: ShapesOptions };
  relations: { examples: ClassifiedExample[]; options: RelationsOptions };
}
export type BuiltinName = keyof BuiltinSets;

/** Each set's task and input kind, for a command line to list and check. */
export const BUILTIN_DATASETS: Readonly<Record<BuiltinName, { task: 'tag' | 'seq2seq' | 'classify'; input: 'tokens' | 'frames' | 'graph' | 'image'; about: string }>> = {
  ambiguity: { task: 'tag', input: 'tokens', about: 'part-of-speech tags where "saw", "can", ... are VERB or NOUN by context' },
  reverse: { task: 'seq2seq', input: 'tokens', about: 'letters a-j, target = source reversed' },
  sort: { task: 'seq2seq', input: 'tokens', about: 'letters a-j, target = source sorted' },
  copy: { task: 'seq2seq', input: 'tokens', about: 'letters a-j, target = source' },
  speech: { task: 'tag', input: 'frames', about: '8-dim frames of phoneme segments, a phoneme label per frame' },
  graph: { task: 'tag', input: 'graph', about: 'noisy node features + edges, label = community class' },
  shapes: { task: 'classify', input: 'image', about: '16×16 gray images: plus, ×, hollow square or disk, anywhere, with noise' },
  relations: { task: 'classify', input: 'image', about: '16×16 gray images: one shape (label: its kind) or two (same or different kind), anywhere' },
};

/** `n` examples of a built-in set from `seed` (default 0); the same arguments always give the same examples. */
export function builtinDataset<K extends BuiltinName>(name: K, options: { seed?: number; n: number } & BuiltinSets[K]['options']): BuiltinSets[K]['examples'];
export function builtinDataset(name: string, options: { seed?: number; n: number } & Record<string, unknown>): TaggedExample[] | PairExample[] | ClassifiedExample[];
export function builtinDataset(name: string, options: { seed?: number; n: number } & Record<string, unknown>): TaggedExample[] | PairExample[] | ClassifiedExample[] {
  const { seed = 0, n, ...rest } = options;
  switch (name) {
    case 'ambiguity': return generateAmbiguity(seed, n, rest);
    case 'reverse': case 'sort': case 'copy': return generateSymbols(name, seed, n, rest);
    case 'speech': return generateSpeech(seed, n, rest);
    case 'graph': return generateGraph(seed, n, rest);
    case 'shapes': return generateShapes(seed, n, rest);
    case 'relations': return generateRelations(seed, n, rest);
    default: throw new QkvError(`unknown built-in data set ${JSON.stringify(name)} (known: ${Object.keys(BUILTIN_DATASETS).join(', ')})`);
  }
}
