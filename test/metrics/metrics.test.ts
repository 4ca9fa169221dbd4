// Metrics: hand-derived values (the arithmetic is in the comments), then replay of
// test/fixtures/metrics.json, computed with sacreBLEU 2.6.0 and scikit-learn 1.9.1 by
// scripts/metrics_reference.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpError } from '../../src/index.js';
import { accuracy, confusion, corpusBleu, corpusChrF, perLabelPRF, type BleuOptions, type ChrFOptions } from '../../src/metrics/index.js';
import { readFixture } from '../fixtures.js';


function close(actual: number, expected: number, what: string, tol = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

const words = (s: string): string[] => (s === '' ? [] : s.split(' '));

// ---------------------------------------------------------------- classification

// gold: N N N D V V D
// pred: N V N D N V A      (A is only ever predicted)
const GOLD = ['N', 'N', 'N', 'D', 'V', 'V', 'D'];
const PRED = ['N', 'V', 'N', 'D', 'N', 'V', 'A'];

test('accuracy counts equal pairs', () => {
  // positions 0, 2, 3, 5 are right: 4/7
  assert.equal(accuracy(PRED, GOLD), 4 / 7);
  assert.equal(accuracy([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(accuracy([0], [1]), 0);
  assert.throws(() => accuracy(['a'], ['a', 'b']), (e: unknown) => e instanceof OpError && /accuracy: pred has 1 items but gold has 2/.test(e.message));
  assert.throws(() => accuracy([], []), /accuracy: no items to score/);
});

test('per-label precision, recall, F1 and the averages on a hand example', () => {
  // label  tp fp fn   precision  recall  F1 = 2tp/(2tp+fp+fn)  support
  // A       0  1  0   0 (0/1)    0 (0/0) 0                      0
  // D       1  0  1   1          1/2     2/3                    2
  // N       2  1  1   2/3        2/3     2/3                    3
  // V       1  1  1   1/2        1/2     1/2                    2
  // macro: P = (0 + 1 + 2/3 + 1/2)/4 = 13/24, R = (0 + 1/2 + 2/3 + 1/2)/4 = 5/12,
  //        F1 = (0 + 2/3 + 2/3 + 1/2)/4 = 11/24   (A counts: it is in pred, as sklearn's default)
  // micro: Σtp = 4, Σfp = 3, Σfn = 3 -> P = R = F1 = 4/7 = accuracy
  // weighted F1 = (0·0 + 2·2/3 + 3·2/3 + 2·1/2)/7 = 13/21
  const r = perLabelPRF(PRED, GOLD);
  assert.deepEqual(r.perLabel.map((s) => s.label), ['A', 'D', 'N', 'V']);
  const expect = [
    [0, 0, 0, 0],
    [1, 1 / 2, 2 / 3, 2],
    [2 / 3, 2 / 3, 2 / 3, 3],
    [1 / 2, 1 / 2, 1 / 2, 2],
  ];
  r.perLabel.forEach((s, i) => {
    const [p, rc, f, sup] = expect[i]!;
    close(s.precision, p!, `${s.label} precision`);
    close(s.recall, rc!, `${s.label} recall`);
    close(s.f1, f!, `${s.label} f1`);
    assert.equal(s.support, sup);
  });
  close(r.macro.precision, 13 / 24, 'macro P');
  close(r.macro.recall, 5 / 12, 'macro R');
  close(r.macro.f1, 11 / 24, 'macro F1');
  for (const k of ['precision', 'recall', 'f1'] as const) close(r.micro[k], 4 / 7, `micro ${k}`);
  close(r.weighted.f1, 13 / 21, 'weighted F1');
  assert.equal(r.micro.support, 7);
});

test('confusion matrix: rows gold, columns predicted', () => {
  const { labels, matrix } = confusion(PRED, GOLD);
  assert.deepEqual(labels, ['A', 'D', 'N', 'V']);
  assert.deepEqual(matrix, [
    [0, 0, 0, 0], // no gold A
    [1, 1, 0, 0], // gold D: once A (position 6), once D (3)
    [0, 0, 2, 1], // gold N: N, V, N
    [0, 0, 1, 1], // gold V: N, V
  ]);
  // a fixed label order; labels outside it are left out
  assert.deepEqual(confusion(PRED, GOLD, { labels: ['N', 'V'] }).matrix, [[2, 1], [1, 1]]);
});

test('integer ids sort numerically, and `labels` restricts the report', () => {
  const r = perLabelPRF([10, 2, 2, 1], [10, 2, 1, 1]);
  assert.deepEqual(r.perLabel.map((s) => s.label), [1, 2, 10]);
  // 1: tp1 fn1 fp0 -> P 1, R 1/2; 2: tp1 fp1 -> P 1/2, R 1; 10: all right
  close(r.perLabel[0]!.recall, 0.5, 'recall of 1');
  close(r.perLabel[1]!.precision, 0.5, 'precision of 2');
  const only = perLabelPRF([10, 2, 2, 1], [10, 2, 1, 1], { labels: [2] });
  assert.equal(only.perLabel.length, 1);
  close(only.macro.f1, 2 / 3, 'F1 of label 2 (2·1/(2+1+0))');
  // micro over label 2 only: tp 1, fp 1, fn 0
  close(only.micro.precision, 0.5, 'micro P over [2]');
  close(only.micro.recall, 1, 'micro R over [2]');
  assert.throws(() => perLabelPRF(['a'], ['a'], { labels: ['a', 'a'] }), /perLabelPRF: labels has repeated entries/);
  assert.throws(() => perLabelPRF(['a'], []), /perLabelPRF: pred has 1 items but gold has 0/);
});

// ---------------------------------------------------------------- BLEU

test('BLEU by hand: "the cat sat on the mat" against "the cat is on the mat"', () => {
  // 1-grams: hyp the×2 cat sat on mat (6); clipped matches the×2 cat on mat = 5 -> p1 = 5/6
  // 2-grams: the-cat cat-sat sat-on on-the the-mat (5); matches the-cat on-the the-mat = 3 -> p2 = 3/5
  // 3-grams: the-cat-sat cat-sat-on sat-on-the on-the-mat (4); match on-the-mat = 1 -> p3 = 1/4
  // 4-grams: 3, no match -> p4 = 0
  // c = r = 6 -> BP = 1
  const hyp = [words('the cat sat on the mat')];
  const ref = [words('the cat is on the mat')];
  // no smoothing: a zero precision gives BLEU 0
  const none = corpusBleu(hyp, ref, { smooth: 'none' });
  assert.equal(none.score, 0);
  assert.deepEqual(none.counts, [5, 3, 1, 0]);
  assert.deepEqual(none.totals, [6, 5, 4, 3]);
  assert.equal(none.bp, 1);
  // 'exp' (sacreBLEU's default): the first zero order gets 1/(2·t4) = 1/6
  // BLEU = 100·(5/6 · 3/5 · 1/4 · 1/6)^(1/4) = 100·(1/48)^(1/4) = 37.9917842825...
  const exp = corpusBleu(hyp, ref);
  close(exp.score, 100 * Math.pow(1 / 48, 1 / 4), 'exp-smoothed BLEU');
  close(exp.precisions[3]!, 100 / 6, 'smoothed p4');
  // maxN = 2: 100·sqrt(5/6 · 3/5) = 100·sqrt(1/2) = 70.71...
  close(corpusBleu(hyp, ref, { maxN: 2 }).score, 100 * Math.SQRT1_2, 'BLEU-2');
});

test('BLEU edge cases: perfect match, brevity penalty, empty hypotheses', () => {
  // identical: every p_n = 100%, BP = 1 -> 100
  const same = [words('a b c d e f'), words('x y z w v')];
  close(corpusBleu(same, same).score, 100, 'perfect');
  // every precision 100% but c = 4 < r = 6: BP = exp(1 - 6/4) = exp(-0.5) -> 60.653...
  const short = corpusBleu([words('a b c d')], [words('a b c d e f')]);
  close(short.bp, Math.exp(-0.5), 'bp');
  close(short.score, 100 * Math.exp(-0.5), 'short BLEU');
  assert.equal(short.sysLen, 4);
  assert.equal(short.refLen, 6);
  // an empty hypothesis: c = 0 -> BP = 0 and no n-gram matches -> 0
  const empty = corpusBleu([[]], [words('a b c')]);
  assert.equal(empty.score, 0);
  assert.equal(empty.bp, 0);
  assert.equal(corpusBleu([], []).score, 0);
  assert.throws(() => corpusBleu([['a']], []), /corpusBleu: 1 hypotheses but 0 references/);
  assert.throws(() => corpusBleu([['a']], [['a']], { maxN: 0 }), /corpusBleu: maxN must be an integer >= 1/);
  assert.throws(() => corpusBleu([['a']], [['a']], { smooth: 'bogus' as 'none' }), /corpusBleu: smooth must be/);
});

// ---------------------------------------------------------------- chrF

test('chrF by hand', () => {
  // hyp "ab", ref "abc" (orders 1..6, beta 2):
  //   n=1: hyp {a,b} = 2, ref {a,b,c} = 3, match 2 -> P 1, R 2/3
  //   n=2: hyp {ab} = 1, ref {ab,bc} = 2, match 1 -> P 1, R 1/2
  //   n=3: hyp has none -> not an effective order; n>=4: the reference has none either
  //   P = (1+1)/2 = 1, R = (2/3+1/2)/2 = 7/12; chrF = 100·(1+4)·P·R/(4P+R) = 100·(35/12)/(55/12) = 100·7/11
  close(corpusChrF(['ab'], ['abc']).score, 700 / 11, 'chrF(ab, abc)');
  // statistics are summed over the corpus before the ratios; add ("x", "y"):
  //   n=1: hyp 3, ref 4, match 2 -> P 2/3, R 1/2;  n=2: hyp 1 (the "x" segment's reference has no
  //   2-grams, so its hypothesis 2-grams are not counted), ref 2, match 1 -> P 1, R 1/2
  //   P = 5/6, R = 1/2; chrF = 100·5·(5/12)/(10/3 + 1/2) = 100·25/46
  close(corpusChrF(['ab', 'x'], ['abc', 'y']).score, 2500 / 46, 'corpus chrF');
  // whitespace is removed before taking character n-grams
  close(corpusChrF(['ab cd  e'], ['abcde']).score, 100, 'whitespace ignored');
  close(corpusChrF(['hello world'], ['hello world']).score, 100, 'perfect');
  assert.equal(corpusChrF([''], ['reference']).score, 0);
  assert.equal(corpusChrF(['xyz'], ['abc']).score, 0);
  assert.throws(() => corpusChrF(['a'], ['a', 'b']), /corpusChrF: 1 hypotheses but 2 references/);
  assert.throws(() => corpusChrF(['a'], ['a'], { beta: 0 }), /corpusChrF: beta must be finite and > 0/);
  assert.throws(() => corpusChrF(['a'], ['a'], { charOrder: 0 }), /corpusChrF: charOrder must be an integer >= 1/);
});

// ---------------------------------------------------------------- sacreBLEU / scikit-learn fixture

interface Fixture {
  made_with: Record<string, string>;
  bleu: { name: string; hypotheses: string[][]; references: string[][]; options: BleuOptions; score: number; precisions: number[]; bp: number; sysLen: number; refLen: number }[];
  chrf: { name: string; hypotheses: string[]; references: string[]; options: ChrFOptions; score: number }[];
  prf: {
    name: string; pred: string[]; gold: string[]; labels: string[]; accuracy: number; confusion: number[][];
    perLabel: { label: string; precision: number; recall: number; f1: number; support: number }[];
    micro: { precision: number; recall: number; f1: number };
    macro: { precision: number; recall: number; f1: number };
    weighted: { precision: number; recall: number; f1: number };
  }[];
}
const fixture = readFixture<Fixture>('metrics.json');

test('corpusBleu equals sacreBLEU on every fixture case', () => {
  assert.ok(fixture.bleu.length >= 10);
  for (const c of fixture.bleu) {
    const r = corpusBleu(c.hypotheses, c.references, c.options);
    close(r.score, c.score, `${c.name}: score`, 1e-12);
    assert.equal(r.precisions.length, c.precisions.length, `${c.name}: number of precisions`);
    r.precisions.forEach((p, i) => close(p, c.precisions[i]!, `${c.name}: p${i + 1}`, 1e-12));
    close(r.bp, c.bp, `${c.name}: bp`, 1e-12);
    assert.equal(r.sysLen, c.sysLen, `${c.name}: sys_len`);
    assert.equal(r.refLen, c.refLen, `${c.name}: ref_len`);
  }
});

test('corpusChrF equals sacreBLEU on every fixture case', () => {
  assert.ok(fixture.chrf.length >= 8);
  for (const c of fixture.chrf) close(corpusChrF(c.hypotheses, c.references, c.options).score, c.score, `${c.name}: chrF`, 1e-12);
});

test('perLabelPRF, accuracy and confusion equal scikit-learn on every fixture case', () => {
  for (const c of fixture.prf) {
    const r = perLabelPRF(c.pred, c.gold);
    assert.deepEqual(r.perLabel.map((s) => s.label), c.labels, `${c.name}: labels`);
    r.perLabel.forEach((s, i) => {
      const e = c.perLabel[i]!;
      for (const k of ['precision', 'recall', 'f1'] as const) close(s[k], e[k], `${c.name}: ${s.label} ${k}`);
      assert.equal(s.support, e.support, `${c.name}: ${s.label} support`);
    });
    for (const avg of ['micro', 'macro', 'weighted'] as const) {
      for (const k of ['precision', 'recall', 'f1'] as const) close(r[avg][k], c[avg][k], `${c.name}: ${avg} ${k}`);
    }
    close(accuracy(c.pred, c.gold), c.accuracy, `${c.name}: accuracy`);
    assert.deepEqual(confusion(c.pred, c.gold).matrix, c.confusion, `${c.name}: confusion`);
  }
});
