// Dropout's mask, counter-based: element i's 32 random bits are a hash of (key, i), so the mask is
// the same on every backend, thread split and device, and a GPU makes it where it is used instead
// of receiving it from the host. This file is the definition the other backends are tested against.
import type { DropoutArgs } from '../contract.js';

/** Chris Wellons' lowbias32: an invertible 32-bit integer hash with very low avalanche bias. */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Element i's bits under the key: two rounds, the second keyed, so masks of different keys are unrelated. */
export function dropoutBits(key0: number, key1: number, i: number): number {
  return lowbias32(lowbias32((i ^ key0) >>> 0) ^ key1);
}

/** ceil(p · 2^24): element i is kept when its top 24 bits reach it, so with probability 1 - p. */
export function dropoutThreshold(p: number): number {
  return Math.ceil(p * 16777216);
}

/** out[i] = x[i] · (kept(i) ? scale : 0): a product, as x · mask is, so NaN stays NaN where dropped. */
export function dropout(x: Float32Array, out: Float32Array, a: DropoutArgs): void {
  const { key0, key1, threshold } = a;
  const scale = Math.fround(a.scale);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * (dropoutBits(key0, key1, i) >>> 8 >= threshold ? scale : 0);
}
