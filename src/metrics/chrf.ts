// Corpus chrF (Popović, 2015) exactly as sacreBLEU 2.x computes it (CHRF().corpus_score with its
// defaults: character n-grams up to 6, beta 2, whitespace removed, no word n-grams, no epsilon
// smoothing, one reference per hypothesis).

import { OpError } from '../core/errors.js';

export interface ChrFOptions {
  /** Highest character n-gram order (default 6). */
  charOrder?: number;
  /** Recall is weighted beta times as much as precision (default 2). */
  beta?: number;
}

export interface ChrFScore {
  /** chrF in 0..100. */
  score: number;
  /** The precision averaged over the effective orders, in 0..100. */
  precision: number;
  /** The recall averaged over the effective orders, in 0..100. */
  recall: number;
  /** How many orders had both hypothesis and reference n-grams over the corpus. */
  effectiveOrder: number;
}

// Python's str.split() whitespace (str.isspace), which sacreBLEU removes before taking n-grams.
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu;

/** counts[n-1]: the character n-grams of `text` with its whitespace removed, over code points. */
function charNgrams(text: string, maxN: number): Map<string, number>[] {
  const chars = Array.from(text.replace(PY_WHITESPACE, ''));
  const counts: Map<string, number>[] = [];
  for (let n = 1; n <= maxN; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const g = chars.slice(i, i + n).join('');
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    counts.push(m);
  }
  return counts;
}

/**
 * Corpus-level chrF of hypothesis strings against one reference string each.
 *
 * Whitespace is removed from each segment, then for each order n = 1..charOrder the character
 * n-gram statistics are summed over the corpus: hyp_n = Σ_s #n-grams(hyp_s) (counted only for
 * segments whose reference has n-grams of that order, as sacreBLEU does), ref_n = Σ_s
 * #n-grams(ref_s), match_n = Σ_s Σ_g min(count_hyp_s(g), count_ref_s(g)). Over the orders with
 * hyp_n > 0 and ref_n > 0 (the effective orders, E of them):
 *   P = (1/E) Σ_n match_n / hyp_n,   R = (1/E) Σ_n match_n / ref_n,
 *   chrF = 100 · (1 + β²) · P · R / (β² · P + R)   (0 when P + R = 0 or E = 0).
 */
export function corpusChrF(hypotheses: readonly string[], references: readonly string[], options: ChrFOptions = {}): ChrFScore {
  const charOrder = options.charOrder ?? 6;
  const beta = options.beta ?? 2;
  if (!Number.isInteger(charOrder) || charOrder < 1) throw new OpError('corpusChrF', `charOrder must be an integer >= 1, got ${charOrder}`);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new OpError('corpusChrF', `beta must be finite and > 0, got ${beta}`);
  if (hypotheses.length !== references.length) {
    throw new OpError('corpusChrF', `${hypotheses.length} hypotheses but ${references.length} references; give one reference per hypothesis`);
  }
  const hypTotal = new Array<number>(charOrder).fill(0);
  const refTotal = new Array<number>(charOrder).fill(0);
  const match = new Array<number>(charOrder).fill(0);
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = hypotheses[s];
    const ref = references[s];
    if (typeof hyp !== 'string' || typeof ref !== 'string') throw new OpError('corpusChrF', `segment ${s}: hypothesis and reference must be strings`);
    const h = charNgrams(hyp, charOrder);
    const r = charNgrams(ref, charOrder);
    for (let n = 0; n < charOrder; n++) {
      let hypCount = 0;
      let refCount = 0;
      let matchCount = 0;
      for (const [g, c] of h[n]!) {
        hypCount += c;
        const rc = r[n]!.get(g);
        if (rc !== undefined) matchCount += Math.min(c, rc);
      }
      for (const c of r[n]!.values()) refCount += c;
      hypTotal[n]! += refCount > 0 ? hypCount : 0;
      refTotal[n]! += refCount;
      match[n]! += matchCount;
    }
  }
  const factor = beta * beta;
  let precision = 0;
  let recall = 0;
  let effectiveOrder = 0;
  for (let n = 0; n < charOrder; n++) {
    if (hypTotal[n]! > 0 && refTotal[n]! > 0) {
      precision += match[n]! / hypTotal[n]!;
      recall += match[n]! / refTotal[n]!;
      effectiveOrder++;
    }
  }
  if (effectiveOrder === 0) return { score: 0, precision: 0, recall: 0, effectiveOrder };
  precision /= effectiveOrder;
  recall /= effectiveOrder;
  const score = precision + recall ? 100 * (((1 + factor) * precision * recall) / (factor * precision + recall)) : 0;
  return { score, precision: 100 * precision, recall: 100 * recall, effectiveOrder };
}
