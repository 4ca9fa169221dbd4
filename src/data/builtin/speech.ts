// `speech`: frame labeling shaped like phoneme recognition. A sequence is 20-60 frames of
// dimension 8 (think filterbank features), cut into phoneme segments of 3-8 frames; each
// frame is labelled with its segment's phoneme.
//
// A frame = its phoneme's mean vector, smoothed across segment boundaries (coarticulation:
// weights 1/4, 1/2, 1/4 over the previous, current and next frame), plus a per-sequence
// "speaker" offset and per-frame Gaussian noise. Vowels and consonants alternate; three
// consonant pairs (m/n, s/sh, f/th: SPEECH_CONFUSABLE) have nearly the same mean, but m, s, f
// only sit next to back vowels (aa, ao, uw) and n, sh, th only next to front vowels (iy, eh).
//
// Why it is a good test: one frame alone is noisy and cannot separate the confusable pairs;
// averaging over the segment removes noise, and the neighbouring vowel decides the pair, so
// models that see context (attention, CNN, RNN) beat a per-frame classifier. Class means come
// from a fixed seed, so sets drawn with different seeds share their phonemes.
import { Generator } from '../../core/rng.js';
import type { TaggedExample } from '../types.js';
import { between, builtinOrigin, checkCount, checkRange, fixedMeans, pick } from './common.js';

const BACK = ['aa', 'ao', 'uw'];
const FRONT = ['iy', 'eh'];
const CONSONANTS = { back: ['p', 't', 'm', 's', 'f'], front: ['p', 't', 'n', 'sh', 'th'] };
export const SPEECH_PHONEMES: readonly string[] = [...BACK, ...FRONT, 'p', 't', 'm', 'n', 's', 'sh', 'f', 'th'];
/** Phoneme pairs with nearly equal means, told apart only by the neighbouring vowels. */
export const SPEECH_CONFUSABLE: readonly (readonly [string, string])[] = [['m', 'n'], ['s', 'sh'], ['f', 'th']];

export interface SpeechOptions {
  /** Feature dimension (default 8). */
  dim?: number;
  /** Sequence length range in frames (default 20-60). */
  minFrames?: number;
  maxFrames?: number;
  /** Segment length range in frames (default 3-8; needs maxSegment >= 2 * minSegment - 1). */
  minSegment?: number;
  maxSegment?: number;
  /** Standard deviation of the per-frame noise (default 0.8). */
  noise?: number;
}

/**
 * The mean vector of each phoneme, in SPEECH_PHONEMES order (fixed, whatever the seed): N(0, 1)
 * entries, except that the second of a confusable pair is the first plus N(0, 0.35^2) entries.
 */
export function speechPhonemeMeans(dim = 8): number[][] {
  const base = fixedMeans(0x5eec4, SPEECH_PHONEMES.length, dim, 1);
  const near = fixedMeans(0x5eec5, SPEECH_CONFUSABLE.length, dim, 0.35);
  SPEECH_CONFUSABLE.forEach(([a, b], i) => {
    base[SPEECH_PHONEMES.indexOf(b)] = base[SPEECH_PHONEMES.indexOf(a)]!.map((x, d) => x + near[i]![d]!);
  });
  return base;
}

/** Segment lengths in [lo, hi] that add up to `total`. */
function segments(g: Generator, total: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let left = total; left > 0;) {
    const len = left <= hi ? left : between(g, lo, Math.min(hi, left - lo));
    out.push(len);
    left -= len;
  }
  return out;
}

/** Phonemes for `k` segments: vowels and consonants alternate; a consonant agrees with its vowels' group. */
function phonemes(g: Generator, k: number): string[] {
  const out: string[] = [];
  let group: 'back' | 'front' | null = null; // constraint left by the previous segment
  let vowel = g.uniform() < 0.5;
  for (let i = 0; i < k; i++, vowel = !vowel) {
    if (vowel) {
      const p: string = pick(g, group === 'back' ? BACK : group === 'front' ? FRONT : [...BACK, ...FRONT]);
      out.push(p);
      group = BACK.includes(p) ? 'back' : 'front';
    } else {
      const p: string = pick(g, group === null ? [...new Set([...CONSONANTS.back, ...CONSONANTS.front])] : CONSONANTS[group]);
      out.push(p);
      group = CONSONANTS.back.includes(p) && !CONSONANTS.front.includes(p) ? 'back' : CONSONANTS.front.includes(p) && !CONSONANTS.back.includes(p) ? 'front' : null;
    }
  }
  return out;
}

/** `n` sequences of frames with a phoneme label per frame, from `seed` (same seed, same data). */
export function generateSpeech(seed: number, n: number, options: SpeechOptions = {}): TaggedExample[] {
  const { dim = 8, minFrames = 20, maxFrames = 60, minSegment = 3, maxSegment = 8, noise = 0.8 } = options;
  checkCount('speech', n);
  checkRange('speech', 'dim', dim, dim);
  checkRange('speech', 'segment', minSegment, maxSegment);
  checkRange('speech', 'frames', minFrames, maxFrames, minSegment);
  checkRange('speech', 'segment (needs maxSegment >= 2 * minSegment - 1)', 2 * minSegment - 1, maxSegment);
  const table = speechPhonemeMeans(dim);
  const means = new Map(SPEECH_PHONEMES.map((p, k) => [p, table[k]!]));
  const g = new Generator(seed);
  const out: TaggedExample[] = [];
  for (let i = 0; i < n; i++) {
    const lengths = segments(g, between(g, minFrames, maxFrames), minSegment, maxSegment);
    const names = phonemes(g, lengths.length);
    const labels = lengths.flatMap((len, s) => Array<string>(len).fill(names[s]!));
    const clean = labels.map((l) => means.get(l)!);
    const speaker = Array.from({ length: dim }, () => 0.2 * g.normal());
    const frames = clean.map((m, t) => {
      const prev = clean[Math.max(0, t - 1)]!;
      const next = clean[Math.min(clean.length - 1, t + 1)]!;
      return m.map((x, d) => 0.25 * prev[d]! + 0.5 * x + 0.25 * next[d]! + speaker[d]! + noise * g.normal());
    });
    out.push({ frames, labels, origin: builtinOrigin('speech', i) });
  }
  return out;
}
