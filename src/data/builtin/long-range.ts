// Generated tagging tasks for the lecture's experiments (qkv experiment), each built so one
// model family can and another cannot solve it:
//   marker    every label depends on the first token, however far away (a fixed window can't see it)
//   recall    a key at one end, its label asked for `distance` positions later (RNN reach)
//   previous  label = the token just before (order matters: attention without positions fails)
//   duplicate label = does this token occur elsewhere (order doesn't matter)
// Each is a function of (seed, n, options): the same arguments give the same examples.
import { Generator } from '../../core/rng.js';
import type { TaggedExample } from '../types.js';
import { between, builtinOrigin, checkCount, checkRange, pick } from './common.js';

const WORDS = Array.from({ length: 16 }, (_, i) => `w${i}`);
/** marker task: words w0-w7 are class X, w8-w15 class Y. */
const classOf = (w: string): 'X' | 'Y' => (Number(w.slice(1)) < 8 ? 'X' : 'Y');

export interface MarkerOptions { minLength?: number; maxLength?: number }

/**
 * The first token is a marker, "same" or "swap"; then words w0..w15. A word's label is its class
 * (X or Y) after "same" and the other class after "swap"; the marker's own label is M. Without
 * seeing position 0 a word's label is a coin toss, so a model whose receptive field is h
 * positions either side is right about 50% of the time past distance h.
 */
export function generateMarker(seed: number, n: number, options: MarkerOptions = {}): TaggedExample[] {
  const { minLength = 12, maxLength = 24 } = options;
  checkCount('marker', n);
  checkRange('marker', 'length', minLength, maxLength, 2);
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const swap = g.uniform() < 0.5;
    const words = Array.from({ length: between(g, minLength, maxLength) - 1 }, () => pick(g, WORDS));
    const flip = (c: 'X' | 'Y') => (swap ? (c === 'X' ? 'Y' : 'X') : c);
    return { tokens: [swap ? 'swap' : 'same', ...words], labels: ['M', ...words.map((w) => flip(classOf(w)))], origin: builtinOrigin('marker', i) };
  });
}

const KEYS = ['ka', 'kb', 'kc', 'kd'];
const FILLERS = Array.from({ length: 8 }, (_, i) => `f${i}`);

export interface RecallOptions {
  /** Positions from the key to the query (>= 1). */
  distance: number;
  /** Random fillers before the key and after the query, at most this many (default 3). */
  margin?: number;
}

/**
 * Fillers f0..f7, one key (ka..kd) and, `distance` positions after it, a query "?". The query's
 * label is its key (LA..LD); every other position's label is "_". Accuracy on the query
 * positions (`recallAccuracy`) measures whether a model relates two positions that far apart.
 */
export function generateRecall(seed: number, n: number, options: RecallOptions): TaggedExample[] {
  const { distance, margin = 3 } = options;
  checkCount('recall', n);
  checkRange('recall', 'distance', distance, distance, 1);
  checkRange('recall', 'margin', 0, margin, 0);
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const before = between(g, 0, margin);
    const after = between(g, 0, margin);
    const key = g.int(0, KEYS.length);
    const tokens = Array.from({ length: before + distance + 1 + after }, () => pick(g, FILLERS));
    tokens[before] = KEYS[key]!;
    tokens[before + distance] = '?';
    const labels = tokens.map(() => '_');
    labels[before + distance] = `L${'ABCD'[key]}`;
    return { tokens, labels, origin: builtinOrigin('recall', i) };
  });
}

const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'];

export interface OrderOptions { minLength?: number; maxLength?: number }

/** Letters a-f; each position's label is the letter before it ("^" at the first). Order-sensitive. */
export function generatePrevious(seed: number, n: number, options: OrderOptions = {}): TaggedExample[] {
  const { minLength = 6, maxLength = 12 } = options;
  checkCount('previous', n);
  checkRange('previous', 'length', minLength, maxLength);
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const tokens = Array.from({ length: between(g, minLength, maxLength) }, () => pick(g, LETTERS));
    return { tokens, labels: tokens.map((_, t) => (t === 0 ? '^' : tokens[t - 1]!.toUpperCase())), origin: builtinOrigin('previous', i) };
  });
}

/**
 * Letters a-f; a position's label is "dup" when its letter occurs elsewhere in the sequence,
 * else "uniq". Shuffling the positions shuffles the labels the same way: order doesn't matter.
 */
export function generateDuplicate(seed: number, n: number, options: OrderOptions = {}): TaggedExample[] {
  const { minLength = 3, maxLength = 7 } = options;
  checkCount('duplicate', n);
  checkRange('duplicate', 'length', minLength, maxLength);
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const tokens = Array.from({ length: between(g, minLength, maxLength) }, () => pick(g, LETTERS));
    const count = (w: string) => tokens.filter((x) => x === w).length;
    return { tokens, labels: tokens.map((w) => (count(w) > 1 ? 'dup' : 'uniq')), origin: builtinOrigin('duplicate', i) };
  });
}
