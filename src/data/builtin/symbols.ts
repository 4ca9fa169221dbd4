// `reverse`, `sort`, `copy`: seq2seq over a small alphabet (letters a-j by default), source
// lengths 3-10; the target is the source reversed, sorted (alphabet order), or unchanged.
//
// Why they are good tests: `copy` is the sanity check (the alignment is the diagonal, a
// model that cannot copy has a bug); `reverse` needs each output step to attend to the mirror
// position, an alignment no fixed window or left-to-right recurrence gets for free; `sort`
// has no alignment at all, each output depends on counts over the whole source. Cross-attention
// maps show the anti-diagonal for reverse and letter-grouped columns for sort.
import { Generator } from '../../core/rng.js';
import type { PairExample } from '../types.js';
import { between, builtinOrigin, checkCount, checkRange, pick } from './common.js';

export const DEFAULT_ALPHABET: readonly string[] = 'abcdefghij'.split('');

export interface SymbolOptions {
  /** Symbols to draw from (default a..j). */
  alphabet?: readonly string[];
  /** Source length range (default 3-10). */
  minLength?: number;
  maxLength?: number;
}

export type SymbolTask = 'reverse' | 'sort' | 'copy';

/** `n` source/target pairs of the given task from `seed` (same seed, same pairs). */
export function generateSymbols(task: SymbolTask, seed: number, n: number, options: SymbolOptions = {}): PairExample[] {
  const { alphabet = DEFAULT_ALPHABET, minLength = 3, maxLength = 10 } = options;
  checkCount(task, n);
  checkRange(task, 'length', minLength, maxLength);
  checkRange(task, 'alphabet size', alphabet.length, alphabet.length);
  const rank = new Map(alphabet.map((s, i) => [s, i]));
  const g = new Generator(seed);
  const out: PairExample[] = [];
  for (let i = 0; i < n; i++) {
    const source = Array.from({ length: between(g, minLength, maxLength) }, () => pick(g, alphabet));
    const target = task === 'reverse' ? [...source].reverse() : task === 'sort' ? [...source].sort((a, b) => rank.get(a)! - rank.get(b)!) : [...source];
    out.push({ source, target, origin: builtinOrigin(task, i) });
  }
  return out;
}

export const generateReverse = (seed: number, n: number, options?: SymbolOptions) => generateSymbols('reverse', seed, n, options);
export const generateSort = (seed: number, n: number, options?: SymbolOptions) => generateSymbols('sort', seed, n, options);
export const generateCopy = (seed: number, n: number, options?: SymbolOptions) => generateSymbols('copy', seed, n, options);
