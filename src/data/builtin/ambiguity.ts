// `ambiguity`: part-of-speech tagging where one word's tag depends on its neighbours, the
// lecture's "I saw a saw". Eight words (AMBIGUOUS_WORDS: saw, can, fly, watch, run, duck, book,
// train) are a VERB after a subject (pronoun or noun, possibly with an adverb between) and a
// NOUN after a determiner (possibly with adjectives between).
//
// Why it is a good test: every other word has one tag, and each ambiguous word is a VERB about
// as often as a NOUN (the generator balances them), so a model that looks at one position at a
// time can get about 50% on the ambiguous words whatever it learns, while the context always
// decides: "previous word that is not an ADJ is a DET -> NOUN, else VERB" recovers every tag.
// A model that beats ~50% there must be using its neighbours (attention, CNN, RNN).
//
// Sentences (4-12 words by default) come from a small grammar:
//   sentence = clause [CONJ clause] [ADV]
//   clause   = (PRON | NP [PP]) [ADV] VERB (NP [PP] | PP | ADV | nothing)
//   NP = DET [ADJ] NOUN      PP = ADP NP
// e.g. "I saw a saw", "the old saw can a duck", "we often watch the watch near my train".
// The words are a tagger's, not a grammar teacher's: any verb fills any verb slot.
import { Generator } from '../../core/rng.js';
import type { TaggedExample } from '../types.js';
import { builtinOrigin, checkCount, checkRange, pick } from './common.js';

export const AMBIGUITY_TAGS = ['PRON', 'VERB', 'DET', 'ADJ', 'NOUN', 'ADP', 'CONJ', 'ADV'] as const;
export type AmbiguityTag = (typeof AMBIGUITY_TAGS)[number];

/** Words that are a VERB or a NOUN depending on context. */
export const AMBIGUOUS_WORDS: readonly string[] = ['saw', 'can', 'fly', 'watch', 'run', 'duck', 'book', 'train'];

/** The words of each tag that have only that tag (the ambiguous words are in neither VERB nor NOUN here). */
export const AMBIGUITY_LEXICON: Readonly<Record<AmbiguityTag, readonly string[]>> = {
  PRON: ['I', 'you', 'we', 'they'],
  VERB: ['see', 'like', 'want', 'find', 'bring', 'keep', 'need', 'love'],
  DET: ['the', 'a', 'this', 'every', 'my', 'your', 'our', 'some'],
  ADJ: ['old', 'red', 'big', 'small', 'new', 'sharp', 'quick', 'green', 'tall', 'heavy'],
  NOUN: ['dog', 'cat', 'box', 'tree', 'table', 'house', 'river', 'boy', 'girl', 'bird', 'car', 'log'],
  ADP: ['in', 'on', 'near', 'with', 'under', 'behind'],
  CONJ: ['and', 'but', 'or'],
  ADV: ['often', 'never', 'always', 'quickly', 'slowly', 'today'],
};

export interface AmbiguityOptions {
  /** Sentence length range in words (default 4-12). */
  minLength?: number;
  maxLength?: number;
}

const np = (g: Generator): AmbiguityTag[] => (g.uniform() < 0.35 ? ['DET', 'ADJ', 'NOUN'] : ['DET', 'NOUN']);
const pp = (g: Generator): AmbiguityTag[] => ['ADP', ...np(g)];

function clause(g: Generator): AmbiguityTag[] {
  const s: AmbiguityTag[] = g.uniform() < 0.5 ? ['PRON'] : np(g);
  if (s.length > 1 && g.uniform() < 0.2) s.push(...pp(g)); // "the saw on the table ..."
  if (g.uniform() < 0.2) s.push('ADV');
  s.push('VERB');
  const r = g.uniform();
  if (r < 0.7) {
    s.push(...np(g));
    if (g.uniform() < 0.35) s.push(...pp(g));
  } else if (r < 0.85) s.push(...pp(g));
  else if (r < 0.93) s.push('ADV');
  return s;
}

/** The tag sequence of one sentence within the length range. */
function skeleton(g: Generator, minLength: number, maxLength: number): AmbiguityTag[] {
  for (;;) {
    const s = clause(g);
    if (g.uniform() < 0.3) s.push('CONJ', ...clause(g));
    if (s[s.length - 1] !== 'ADV' && g.uniform() < 0.1) s.push('ADV');
    if (s.length >= minLength && s.length <= maxLength) return s;
  }
}

/**
 * `n` tagged sentences from `seed` (same seed, same sentences; the first k of n equal the k
 * of a shorter run). Ambiguous words are balanced as they are drawn: a noun or verb slot takes
 * an ambiguous word with probability 1/2, less when that use is ahead overall, and takes the
 * ambiguous word that is most behind in that use, so each one ends up close to 50/50.
 */
export function generateAmbiguity(seed: number, n: number, options: AmbiguityOptions = {}): TaggedExample[] {
  const { minLength = 4, maxLength = 12 } = options;
  checkCount('ambiguity', n);
  checkRange('ambiguity', 'length', minLength, maxLength, 4);
  const g = new Generator(seed);
  const balance = new Map(AMBIGUOUS_WORDS.map((w) => [w, 0])); // NOUN uses minus VERB uses
  let total = 0;
  const ambiguous = (use: 'NOUN' | 'VERB'): string => {
    const sign = use === 'NOUN' ? 1 : -1;
    const best = Math.min(...AMBIGUOUS_WORDS.map((w) => sign * balance.get(w)!));
    const w = pick(g, AMBIGUOUS_WORDS.filter((x) => sign * balance.get(x)! === best));
    balance.set(w, balance.get(w)! + sign);
    total += sign;
    return w;
  };
  const out: TaggedExample[] = [];
  for (let i = 0; i < n; i++) {
    const labels = skeleton(g, minLength, maxLength);
    const tokens = labels.map((tag) => {
      if (tag === 'NOUN' || tag === 'VERB') {
        const ahead = tag === 'NOUN' ? total > 0 : total < 0;
        if (g.uniform() < (ahead ? 0.1 : 0.5)) return ambiguous(tag);
      }
      return pick(g, AMBIGUITY_LEXICON[tag]);
    });
    out.push({ tokens, labels, origin: builtinOrigin('ambiguity', i) });
  }
  return out;
}
