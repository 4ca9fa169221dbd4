// The experiments' generated tasks (src/data/builtin/long-range.ts): same seed, same examples;
// each label follows the task's rule; the deciding position is where the task says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { data } from '../../src/index.js';

test('marker: every word label is its class after "same" and the other class after "swap", at any distance', () => {
  const xs = data.generateMarker(1, 200, { minLength: 12, maxLength: 30 });
  assert.deepEqual(xs, data.generateMarker(1, 200, { minLength: 12, maxLength: 30 }), 'same seed, same examples');
  assert.notDeepEqual(xs, data.generateMarker(2, 200, { minLength: 12, maxLength: 30 }));
  let swaps = 0;
  for (const e of xs) {
    const tokens = e.tokens!;
    assert.ok(tokens.length >= 12 && tokens.length <= 30);
    assert.ok(tokens[0] === 'same' || tokens[0] === 'swap');
    assert.equal(e.labels[0], 'M');
    if (tokens[0] === 'swap') swaps++;
    tokens.slice(1).forEach((w, i) => {
      const cls = Number(w.slice(1)) < 8 ? 'X' : 'Y';
      assert.equal(e.labels[i + 1], tokens[0] === 'same' ? cls : cls === 'X' ? 'Y' : 'X');
    });
  }
  assert.ok(swaps > 70 && swaps < 130, `modes balanced: ${swaps}/200 swap`);
  // the same word gets both labels depending on the marker alone: a window that misses it guesses
  const labelsOfW3 = new Set(xs.flatMap((e) => e.tokens!.map((w, t) => (w === 'w3' ? e.labels[t] : null)).filter(Boolean)));
  assert.deepEqual([...labelsOfW3].sort(), ['X', 'Y']);
  assert.throws(() => data.generateMarker(0, 5, { minLength: 1, maxLength: 3 }), /length range/);
});

test('recall: the query sits exactly `distance` after the key and is labelled with it', () => {
  for (const distance of [1, 5, 40]) {
    const xs = data.generateRecall(3, 100, { distance });
    assert.deepEqual(xs, data.generateRecall(3, 100, { distance }));
    for (const e of xs) {
      const key = e.tokens!.findIndex((w) => w.startsWith('k'));
      const query = e.tokens!.indexOf('?');
      assert.equal(query - key, distance);
      assert.equal(e.tokens!.filter((w) => w.startsWith('k') || w === '?').length, 2, 'one key, one query');
      assert.equal(e.labels[query], `L${e.tokens![key]!.slice(1).toUpperCase()}`);
      e.labels.forEach((l, t) => { if (t !== query) assert.equal(l, '_'); });
    }
  }
  assert.throws(() => data.generateRecall(0, 5, { distance: 0 }), /distance/);
});

test('previous: the label is the letter before; duplicate: the labels move with the letters (order-free)', () => {
  for (const e of data.generatePrevious(4, 50)) {
    assert.equal(e.labels[0], '^');
    e.tokens!.slice(0, -1).forEach((w, t) => assert.equal(e.labels[t + 1], w.toUpperCase()));
  }
  const dup = data.generateDuplicate(5, 200);
  let dups = 0;
  for (const e of dup) {
    e.tokens!.forEach((w, t) => {
      const others = e.tokens!.filter((x, j) => j !== t && x === w).length;
      assert.equal(e.labels[t], others > 0 ? 'dup' : 'uniq');
      if (others) dups++;
    });
    // reversing the sequence reverses the labels: the rule ignores order
    const rev = [...e.tokens!].reverse();
    assert.deepEqual(rev.map((w) => (rev.filter((x) => x === w).length > 1 ? 'dup' : 'uniq')), [...e.labels].reverse());
  }
  const total = dup.reduce((a, e) => a + e.tokens!.length, 0);
  assert.ok(dups / total > 0.3 && dups / total < 0.7, `both labels common: ${dups}/${total}`);
});
