#!/usr/bin/env python3
"""Reference values for qkv's metrics (src/metrics), computed with sacreBLEU and scikit-learn.

Writes test/fixtures/metrics.json (relative to the repository root, whatever the cwd), which
test/metrics/metrics.test.ts replays through corpusBleu, corpusChrF and perLabelPRF.

Needs sacrebleu (2.x) and scikit-learn, e.g. in a throwaway virtual environment:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install sacrebleu scikit-learn
    /tmp/venv/bin/python scripts/metrics_reference.py
The committed fixture was made with sacrebleu 2.6.0 and scikit-learn 1.9.1 (versions recorded in
the file).

BLEU cases are tokenized (lists of tokens); sacreBLEU gets each segment as its tokens joined by
one space with tokenize='none', so its whitespace split gives back exactly those tokens (no
token is empty or contains whitespace). One reference per hypothesis. chrF cases are strings,
scored with sacreBLEU's CHRF defaults (char_order=6, word_order=0, beta=2) unless a case says
otherwise.
"""
import json
import os

import sacrebleu
import sklearn
from sacrebleu.metrics import BLEU, CHRF
from sklearn.metrics import precision_recall_fscore_support, confusion_matrix, accuracy_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def toks(s):
    return s.split()


BLEU_CASES = [
    # name, hypotheses, references, options (qkv names)
    ('two sentences', [
        'the cat sat on the mat',
        'there is a dog in the garden',
    ], [
        'the cat is sitting on the mat',
        'a dog is in the garden',
    ], {}),
    ('perfect match', ['a b c d e', 'x y z w'], ['a b c d e', 'x y z w'], {}),
    ('empty hypothesis in a corpus', ['', 'the quick brown fox jumps'], ['a reference here', 'the quick brown fox jumped'], {}),
    ('every hypothesis empty', ['', ''], ['a b c', 'd e'], {}),
    ('no 4-gram matches, no smoothing', ['a b c d', 'e f g h'], ['a b c x', 'e f x h'], {'smooth': 'none'}),
    ('no 4-gram matches, exp smoothing (default)', ['a b c d', 'e f g h'], ['a b c x', 'e f x h'], {}),
    ('no 4-gram matches, floor smoothing', ['a b c d', 'e f g h'], ['a b c x', 'e f x h'], {'smooth': 'floor'}),
    ('no 4-gram matches, add-k smoothing', ['a b c d', 'e f g h'], ['a b c x', 'e f x h'], {'smooth': 'add-k'}),
    ('clipping of repeated words', ['the the the the the the the'], ['the cat is on the mat'], {}),
    ('hypotheses shorter than 4 tokens', ['a b', 'c'], ['a b', 'c'], {}),
    ('longer than the reference (no brevity penalty)', ['one two three four five six seven'], ['one two three four five'], {}),
    ('maxN = 2', ['the cat sat on the mat'], ['the cat is on the mat'], {'maxN': 2}),
    ('effective order', ['a b c', 'x y'], ['a b c', 'x z'], {'effectiveOrder': True}),
    ('unicode tokens', ['der Bär läuft schnell über die Straße', '我 爱 北京'], ['der Bär läuft über die Straße', '我 爱 北京 天安门'], {}),
]

CHRF_CASES = [
    ('two sentences', ['the cat sat on the mat', 'there is a dog in the garden'],
     ['the cat is sitting on the mat', 'a dog is in the garden'], {}),
    ('perfect match', ['hello world', 'abc'], ['hello world', 'abc'], {}),
    ('whitespace is ignored', ['ab cd  e'], ['abcde'], {}),
    ('empty hypothesis', [''], ['nonempty reference'], {}),
    ('empty hypothesis in a corpus', ['', 'the quick brown fox'], ['something', 'the quick brown fox jumped'], {}),
    ('short segments (fewer chars than the order)', ['ab', 'x'], ['abc', 'y'], {}),
    ('empty reference', ['abc', 'hello'], ['', 'help'], {}),
    ('no overlap', ['xyz'], ['abc'], {}),
    ('beta = 1, charOrder = 4', ['the cat sat on the mat'], ['the cat is on the mat'], {'beta': 1, 'charOrder': 4}),
    ('unicode', ['Straße über Bär', '我爱北京', 'naïve café 😀'], ['Strasse über Bären', '我爱北京天安门', 'naive cafe 😀😀'], {}),
]

PRF_CASES = [
    ('tags with a label only predicted', ['N', 'V', 'N', 'D', 'N', 'V', 'A'], ['N', 'N', 'N', 'D', 'V', 'V', 'D']),
    ('label only in gold', ['a', 'a', 'b', 'b'], ['a', 'c', 'b', 'c']),
    ('all right', ['x', 'y', 'x'], ['x', 'y', 'x']),
]


def bleu_case(name, hyps, refs, opts):
    smooth = opts.get('smooth', 'exp')
    metric = BLEU(tokenize='none', smooth_method=smooth, max_ngram_order=opts.get('maxN', 4),
                  effective_order=opts.get('effectiveOrder', False))
    s = metric.corpus_score(hyps, [refs])
    return {
        'name': name,
        'hypotheses': [toks(h) for h in hyps],
        'references': [toks(r) for r in refs],
        'options': opts,
        'score': s.score,
        'precisions': list(s.precisions),
        'bp': s.bp,
        'sysLen': s.sys_len,
        'refLen': s.ref_len,
    }


def chrf_case(name, hyps, refs, opts):
    metric = CHRF(char_order=opts.get('charOrder', 6), beta=opts.get('beta', 2))
    s = metric.corpus_score(hyps, [refs])
    return {'name': name, 'hypotheses': hyps, 'references': refs, 'options': opts, 'score': s.score}


def prf_case(name, pred, gold):
    labels = sorted(set(pred) | set(gold))
    p, r, f, sup = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    out = {
        'name': name, 'pred': pred, 'gold': gold, 'labels': labels,
        'perLabel': [{'label': l, 'precision': float(p[i]), 'recall': float(r[i]), 'f1': float(f[i]), 'support': int(sup[i])}
                     for i, l in enumerate(labels)],
        'accuracy': float(accuracy_score(gold, pred)),
        'confusion': confusion_matrix(gold, pred, labels=labels).tolist(),
    }
    for avg in ('micro', 'macro', 'weighted'):
        p, r, f, _ = precision_recall_fscore_support(gold, pred, average=avg, zero_division=0)
        out[avg] = {'precision': float(p), 'recall': float(r), 'f1': float(f)}
    return out


def main():
    fixture = {
        'made_with': {'sacrebleu': sacrebleu.__version__, 'scikit-learn': sklearn.__version__},
        'bleu': [bleu_case(*c) for c in BLEU_CASES],
        'chrf': [chrf_case(*c) for c in CHRF_CASES],
        'prf': [prf_case(*c) for c in PRF_CASES],
    }
    path = os.path.join(ROOT, 'test', 'fixtures', 'metrics.json')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(fixture, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print(f'wrote {path}: {len(fixture["bleu"])} BLEU, {len(fixture["chrf"])} chrF, {len(fixture["prf"])} PRF cases')


if __name__ == '__main__':
    main()
