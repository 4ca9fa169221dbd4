// Train/dev/test splits: a seeded shuffle, then consecutive slices.
import { QkvError } from '../core/errors.js';
import { Generator } from '../core/rng.js';

/**
 * Shuffles a copy of `examples` with `seed` and cuts it into parts of the given fractions
 * (e.g. [0.8, 0.1, 0.1]). Part k ends at round(n * (f0 + ... + fk)); when the fractions sum to
 * 1 every example lands in exactly one part, when less the rest is left out. Same seed, same
 * parts.
 */
export function split<T>(examples: readonly T[], fractions: readonly number[], seed: number): T[][] {
  if (fractions.length === 0) throw new QkvError('split: no fractions given');
  for (const f of fractions) if (!(f >= 0 && f <= 1)) throw new QkvError(`split: fraction ${f} is not in [0, 1]`);
  const total = fractions.reduce((a, b) => a + b, 0);
  if (total > 1 + 1e-9) throw new QkvError(`split: fractions [${fractions.join(', ')}] sum to ${total}, more than 1`);
  const shuffled = new Generator(seed).shuffle([...examples]);
  const n = shuffled.length;
  const parts: T[][] = [];
  let start = 0;
  let sum = 0;
  for (const f of fractions) {
    sum += f;
    const end = Math.abs(sum - 1) < 1e-9 ? n : Math.min(n, Math.round(n * sum));
    parts.push(shuffled.slice(start, end));
    start = end;
  }
  return parts;
}
