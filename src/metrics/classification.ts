// Classification metrics on plain arrays of labels (strings or integer ids): accuracy,
// per-label precision / recall / F1 with micro, macro and weighted averages, and the confusion
// matrix. They follow scikit-learn (accuracy_score, precision_recall_fscore_support with
// zero_division=0, confusion_matrix), so a number printed by qkv can be checked in Python.

import { OpError } from '../core/errors.js';

/** A label: a string (tag, class name) or an integer id. */
export type Label = string | number;

/** Precision, recall, F1 and support of one label, or of an average over labels. */
export interface PRF {
  /** tp / (tp + fp); 0 when nothing was predicted as the label (scikit-learn's zero_division=0). */
  precision: number;
  /** tp / (tp + fn); 0 when the label never occurs in gold. */
  recall: number;
  /** 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall; 0 when tp = fp = fn = 0. */
  f1: number;
  /** Number of gold items with this label (for an average: the gold items it covers). */
  support: number;
}

export interface LabelPRF<L extends Label> extends PRF {
  label: L;
}

export interface PRFReport<L extends Label> {
  /** One entry per label, in `labels` order (sorted unless `labels` was given). */
  perLabel: LabelPRF<L>[];
  /**
   * Pooled counts over the labels: P = Σtp / (Σtp + Σfp), R = Σtp / (Σtp + Σfn),
   * F1 = 2·Σtp / (2·Σtp + Σfp + Σfn). With every label counted, each item is one prediction and
   * one gold label, so micro P = R = F1 = accuracy.
   */
  micro: PRF;
  /** Unweighted means of the per-label precision, recall and F1 (macro-F1 is the mean of the F1s). */
  macro: PRF;
  /** Means of the per-label values weighted by support (scikit-learn's average='weighted'). */
  weighted: PRF;
}

export interface LabelOptions<L extends Label> {
  /**
   * The labels to report, in this order. Default: every label found in gold or pred, sorted
   * (numbers ascending, strings by UTF-16 code unit). Items whose labels are not listed are
   * left out of the counts that need them, as scikit-learn's `labels=` argument does.
   */
  labels?: readonly L[];
}

function checkPair(op: string, pred: readonly Label[], gold: readonly Label[]): void {
  if (!Array.isArray(pred) || !Array.isArray(gold)) throw new OpError(op, 'pred and gold must be arrays of labels');
  if (pred.length !== gold.length) {
    throw new OpError(op, `pred has ${pred.length} items but gold has ${gold.length}; they must pair up one to one`);
  }
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function labelSet<L extends Label>(op: string, pred: readonly L[], gold: readonly L[], given?: readonly L[]): L[] {
  if (given !== undefined) {
    if (new Set(given).size !== given.length) throw new OpError(op, `labels has repeated entries: [${given.join(', ')}]`);
    return [...given];
  }
  return [...new Set<L>([...gold, ...pred])].sort(compareLabels);
}

const ratio = (num: number, den: number): number => (den > 0 ? num / den : 0);

/**
 * Accuracy: the fraction of items whose prediction equals the gold label,
 * `accuracy = (1/N) · Σ_i [pred_i = gold_i]`, in 0..1.
 * Throws when the arrays differ in length or are empty (nothing to score).
 */
export function accuracy<L extends Label>(pred: readonly L[], gold: readonly L[]): number {
  checkPair('accuracy', pred, gold);
  if (gold.length === 0) throw new OpError('accuracy', 'no items to score (pred and gold are empty)');
  let right = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) right++;
  return right / gold.length;
}

/**
 * The confusion matrix: `matrix[i][j]` counts the items whose gold label is `labels[i]` and
 * whose predicted label is `labels[j]` (rows are gold, columns predictions, as scikit-learn's
 * confusion_matrix). The diagonal holds the correct items.
 */
export function confusion<L extends Label>(
  pred: readonly L[],
  gold: readonly L[],
  options: LabelOptions<L> = {},
): { labels: L[]; matrix: number[][] } {
  checkPair('confusion', pred, gold);
  const labels = labelSet('confusion', pred, gold, options.labels);
  const index = new Map<L, number>(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]!);
    const p = index.get(pred[i]!);
    if (g !== undefined && p !== undefined) matrix[g]![p]!++;
  }
  return { labels, matrix };
}

/**
 * Per-label precision, recall, F1 and support, with micro, macro and weighted averages.
 *
 * For a label ℓ: tp = #{i: pred_i = ℓ and gold_i = ℓ}, fp = #{i: pred_i = ℓ ≠ gold_i},
 * fn = #{i: gold_i = ℓ ≠ pred_i}; precision = tp/(tp+fp), recall = tp/(tp+fn),
 * F1 = 2·tp/(2·tp+fp+fn), support = tp+fn; a ratio whose denominator is 0 is 0
 * (scikit-learn's zero_division=0). By default the labels are every label present in gold or
 * pred, so a label that is only ever predicted (never in gold) counts in the macro average
 * with precision = recall = F1 = 0, as in scikit-learn's precision_recall_fscore_support.
 */
export function perLabelPRF<L extends Label>(pred: readonly L[], gold: readonly L[], options: LabelOptions<L> = {}): PRFReport<L> {
  checkPair('perLabelPRF', pred, gold);
  const labels = labelSet('perLabelPRF', pred, gold, options.labels);
  const index = new Map<L, number>(labels.map((l, i) => [l, i]));
  const tp = new Array<number>(labels.length).fill(0);
  const fp = new Array<number>(labels.length).fill(0);
  const fn = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]!);
    const p = index.get(pred[i]!);
    if (pred[i] === gold[i]) {
      if (g !== undefined) tp[g]!++;
    } else {
      if (p !== undefined) fp[p]!++;
      if (g !== undefined) fn[g]!++;
    }
  }
  const perLabel = labels.map((label, k) => ({
    label,
    precision: ratio(tp[k]!, tp[k]! + fp[k]!),
    recall: ratio(tp[k]!, tp[k]! + fn[k]!),
    f1: ratio(2 * tp[k]!, 2 * tp[k]! + fp[k]! + fn[k]!),
    support: tp[k]! + fn[k]!,
  }));
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const TP = sum(tp);
  const FP = sum(fp);
  const FN = sum(fn);
  const support = TP + FN;
  const n = perLabel.length;
  const mean = (key: 'precision' | 'recall' | 'f1'): number => (n ? sum(perLabel.map((s) => s[key])) / n : 0);
  const wmean = (key: 'precision' | 'recall' | 'f1'): number => ratio(sum(perLabel.map((s) => s[key] * s.support)), support);
  return {
    perLabel,
    micro: { precision: ratio(TP, TP + FP), recall: ratio(TP, TP + FN), f1: ratio(2 * TP, 2 * TP + FP + FN), support },
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support },
    weighted: { precision: wmean('precision'), recall: wmean('recall'), f1: wmean('f1'), support },
  };
}
