// Corpus BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.x computes it (BLEU().corpus_score
// with tokenize='none', one reference per hypothesis), on input that is already tokenized.

import { OpError } from '../core/errors.js';

/** sacreBLEU's smoothing methods (Chen & Cherry, 2014). */
export type BleuSmoothing = 'exp' | 'none' | 'floor' | 'add-k';

export interface BleuOptions {
  /** Highest n-gram order N (default 4). */
  maxN?: number;
  /**
   * Smoothing of zero n-gram counts (default 'exp', sacreBLEU's default):
   * - 'exp': the k-th order whose match count is 0 gets precision 1/(2^k · total_n)
   *   (NIST / mteval-v13a smoothing, Chen & Cherry method 3);
   * - 'none': a zero match count makes that precision, and so BLEU, 0;
   * - 'floor': a zero match count becomes `smoothValue` (default 0.1) matches;
   * - 'add-k': `smoothValue` (default 1) is added to the match and total counts of every n >= 2.
   */
  smooth?: BleuSmoothing;
  /** The value used by 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /**
   * Average only over the orders up to the highest one the hypotheses contain at all (an order
   * with no n-grams is left out instead of giving 0), as sacreBLEU's effective_order; meant for
   * sentence-level BLEU. Default false.
   */
  effectiveOrder?: boolean;
}

export interface BleuScore {
  /** BLEU in 0..100. */
  score: number;
  /** p_1..p_N in percent (0..100), after smoothing, as sacreBLEU reports them. */
  precisions: number[];
  /** Clipped n-gram matches summed over the corpus, n = 1..N (before any smoothing). */
  counts: number[];
  /** Hypothesis n-grams summed over the corpus, n = 1..N (before any smoothing). */
  totals: number[];
  /** Brevity penalty: 1 when c >= r, else exp(1 - r/c) (0 when c = 0). */
  bp: number;
  /** c: total hypothesis length in tokens. */
  sysLen: number;
  /** r: total reference length in tokens. */
  refLen: number;
  /** c / r (0 when r = 0). */
  ratio: number;
}

/** counts[n-1] maps each n-gram (keyed by the JSON of its tokens, unambiguous) to its count. */
function ngramCounts(tokens: readonly string[], maxN: number): Map<string, number>[] {
  const counts: Map<string, number>[] = [];
  for (let n = 1; n <= maxN; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = JSON.stringify(tokens.slice(i, i + n));
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    counts.push(m);
  }
  return counts;
}

/** log that sacreBLEU floors at -9999999999 for 0 (so a zero precision drives BLEU to 0). */
const myLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x));

/**
 * Corpus-level BLEU of tokenized hypotheses against one tokenized reference each.
 *
 * With clipped n-gram matches summed over the corpus,
 *   m_n = Σ_s Σ_{g ∈ n-grams(hyp_s)} min(count_hyp_s(g), count_ref_s(g)),
 *   t_n = Σ_s (|hyp_s| - n + 1)^+,   p_n = m_n / t_n,
 * c = Σ_s |hyp_s|, r = Σ_s |ref_s|, BP = 1 if c >= r else exp(1 - r/c),
 *   BLEU = 100 · BP · exp((1/N) · Σ_{n=1..N} log p_n).
 * Special cases as sacreBLEU: no match at any order gives 0 (all precisions 0); an order with
 * t_n = 0 ends the loop, leaving that and higher precisions 0 (so BLEU 0 unless effectiveOrder);
 * zero matches at an order are smoothed as `smooth` says.
 */
export function corpusBleu(
  hypotheses: readonly (readonly string[])[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuScore {
  const maxN = options.maxN ?? 4;
  const smooth = options.smooth ?? 'exp';
  if (!Number.isInteger(maxN) || maxN < 1) throw new OpError('corpusBleu', `maxN must be an integer >= 1, got ${maxN}`);
  if (!['exp', 'none', 'floor', 'add-k'].includes(smooth)) {
    throw new OpError('corpusBleu', `smooth must be 'exp', 'none', 'floor' or 'add-k', got '${smooth}'`);
  }
  const smoothValue = options.smoothValue ?? (smooth === 'floor' ? 0.1 : 1);
  if (!(smoothValue >= 0) || !Number.isFinite(smoothValue)) throw new OpError('corpusBleu', `smoothValue must be finite and >= 0, got ${smoothValue}`);
  if (hypotheses.length !== references.length) {
    throw new OpError('corpusBleu', `${hypotheses.length} hypotheses but ${references.length} references; give one reference per hypothesis`);
  }
  const counts = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let sysLen = 0;
  let refLen = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = hypotheses[s]!;
    const ref = references[s]!;
    if (!Array.isArray(hyp) || !Array.isArray(ref)) throw new OpError('corpusBleu', `segment ${s}: hypothesis and reference must be arrays of tokens`);
    sysLen += hyp.length;
    refLen += ref.length;
    const refCounts = ngramCounts(ref, maxN);
    const hypCounts = ngramCounts(hyp, maxN);
    for (let n = 0; n < maxN; n++) {
      for (const [key, c] of hypCounts[n]!) {
        totals[n]! += c;
        const r = refCounts[n]!.get(key);
        if (r !== undefined) counts[n]! += Math.min(c, r);
      }
    }
  }
  return bleuFromStatistics(counts, totals, sysLen, refLen, { maxN, smooth, smoothValue, effectiveOrder: options.effectiveOrder ?? false });
}

/** BLEU from corpus statistics, as sacreBLEU's BLEU.compute_bleu (exported for reuse and tests). */
export function bleuFromStatistics(
  counts: readonly number[],
  totals: readonly number[],
  sysLen: number,
  refLen: number,
  options: Required<BleuOptions>,
): BleuScore {
  const { maxN, smooth, smoothValue, effectiveOrder } = options;
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const precisions = new Array<number>(maxN).fill(0);
  const result = (score: number): BleuScore => ({
    score, precisions, counts: [...counts], totals: [...totals], bp, sysLen, refLen, ratio: refLen ? sysLen / refLen : 0,
  });
  if (!counts.some((c) => c !== 0)) return result(0);
  let smoothMteval = 1;
  let effOrder = maxN;
  for (let n = 1; n <= maxN; n++) {
    let correct = counts[n - 1]!;
    let total = totals[n - 1]!;
    if (smooth === 'add-k' && n > 1) {
      correct += smoothValue;
      total += smoothValue;
    }
    if (total === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct === 0) {
      if (smooth === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total);
      } else if (smooth === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / total;
      }
    } else {
      precisions[n - 1] = (100 * correct) / total;
    }
  }
  let logSum = 0;
  for (let n = 0; n < effOrder; n++) logSum += myLog(precisions[n]!);
  return result(bp * Math.exp(logSum / effOrder));
}
