// Small helpers shared by the built-in data set generators.
import { QkvError } from '../../core/errors.js';
import { Generator } from '../../core/rng.js';
import type { Origin } from '../types.js';

/** A uniformly chosen element. */
export function pick<T>(g: Generator, items: readonly T[]): T {
  return items[g.int(0, items.length)]!;
}

/** A uniform integer in [low, high], both ends included. */
export function between(g: Generator, low: number, high: number): number {
  return g.int(low, high + 1);
}

/** The origin of the i-th generated example: file "builtin:name", line i + 1. */
export function builtinOrigin(name: string, i: number): Origin {
  return { file: `builtin:${name}`, line: i + 1 };
}

/** Checks that `n` and a [low, high] option pair are sensible integers. */
export function checkRange(name: string, what: string, low: number, high: number, least = 1): void {
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < least || high < low) {
    throw new QkvError(`builtin ${name}: ${what} range [${low}, ${high}] must be integers with ${least} <= low <= high`);
  }
}

export function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new QkvError(`builtin ${name}: n must be a non-negative integer, got ${n}`);
}

/**
 * `k` class mean vectors of dimension `dim`, entries N(0, scale^2), from a fixed seed: the
 * classes look the same whatever seed draws the examples, so sets made with different seeds
 * (train from one, test from another) share their classes.
 */
export function fixedMeans(fixedSeed: number, k: number, dim: number, scale: number): number[][] {
  const g = new Generator(fixedSeed);
  return Array.from({ length: k }, () => Array.from({ length: dim }, () => scale * g.normal()));
}
