// Vocab, LabelSet and CharVocab: ids, unknowns, JSON round trips; split.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QkvError } from '../../src/core/errors.js';
import { CharVocab, DataError, LabelSet, Vocab, charVocab, split } from '../../src/data/index.js';

const seqs = [['the', 'saw', 'saw', 'a', 'log'], ['I', 'saw', 'the', 'log'], ['a', 'dog']];

describe('Vocab', () => {
  test('specials first, then by frequency, ties in code-unit order', () => {
    const v = Vocab.build(seqs);
    assert.deepEqual(v.toJSON().tokens, ['<pad>', '<unk>', 'saw', 'a', 'log', 'the', 'I', 'dog']);
    assert.equal(v.size, 8);
    assert.equal(v.pad, 0);
    assert.equal(v.unk, 1);
    assert.equal(v.bos, -1);
    assert.deepEqual([...v.encode(['the', 'saw', 'zebra'])], [5, 2, 1]);
    assert.deepEqual(v.decode([5, 2, 1, 0]), ['the', 'saw', '<unk>', '<pad>']);
    assert.deepEqual(v.decode(new Int32Array([5, 0, 0]), { strip: true }), ['the']);
  });

  test('minFreq and maxSize (specials counted)', () => {
    assert.deepEqual(Vocab.build(seqs, { minFreq: 2 }).toJSON().tokens, ['<pad>', '<unk>', 'saw', 'a', 'log', 'the']);
    assert.deepEqual(Vocab.build(seqs, { maxSize: 4 }).toJSON().tokens, ['<pad>', '<unk>', 'saw', 'a']);
    const small = Vocab.build(seqs, { maxSize: 4 });
    assert.deepEqual([...small.encode(['log', 'saw'])], [small.unk, 2]);
    assert.throws(() => Vocab.build(seqs, { maxSize: 1 }), QkvError);
  });

  test('bos/eos for seq2seq', () => {
    const v = Vocab.build([['a', 'b', 'b']], { bosEos: true });
    assert.deepEqual(v.toJSON().tokens, ['<pad>', '<unk>', '<bos>', '<eos>', 'b', 'a']);
    assert.equal(v.bos, 2);
    assert.equal(v.eos, 3);
    const ids = v.encode(['a', 'b', 'c'], { bos: true, eos: true });
    assert.deepEqual([...ids], [2, 5, 4, 1, 3]);
    assert.deepEqual(v.decode([2, 5, 4, 3, 4, 0]), ['<bos>', 'a', 'b', '<eos>', 'b', '<pad>']);
    assert.deepEqual(v.decode([2, 5, 4, 3, 4, 0], { strip: true }), ['a', 'b']);
    assert.throws(() => Vocab.build([['a']]).encode(['a'], { bos: true }), { message: 'Vocab.encode: this vocabulary has no <bos> (build it with bosEos: true)' });
  });

  test('a data token spelled like a special is not duplicated', () => {
    assert.deepEqual(Vocab.build([['<unk>', 'x', '<pad>']]).toJSON().tokens, ['<pad>', '<unk>', 'x']);
  });

  test('JSON round trip is exact', () => {
    for (const v of [Vocab.build(seqs), Vocab.build(seqs, { bosEos: true, minFreq: 2 })]) {
      const text = JSON.stringify(v);
      const back = Vocab.fromJSON(JSON.parse(text));
      assert.equal(JSON.stringify(back), text);
      assert.equal(back.size, v.size);
      assert.equal(back.bos, v.bos);
      assert.deepEqual(back.encode(['saw', 'the', 'nope']), v.encode(['saw', 'the', 'nope']));
    }
    assert.throws(() => Vocab.fromJSON({ kind: 'labels', labels: [] }), QkvError);
    assert.throws(() => Vocab.fromJSON({ kind: 'vocab', tokens: ['a', 'b'] }), /ids 0 and 1 must be <pad> and <unk>/);
    assert.throws(() => Vocab.fromJSON({ kind: 'vocab', tokens: ['<pad>', '<unk>', 'a', 'a'] }), /appears twice/);
  });

  test('decoding an id out of range is an error', () => {
    assert.throws(() => Vocab.build(seqs).decode([8]), { message: 'Vocab: id 8 is out of range for a vocabulary of 8' });
  });
});

describe('LabelSet', () => {
  test('sorted labels, encode/decode, no unk', () => {
    const l = LabelSet.build(['VERB', 'NOUN', 'DET', 'NOUN']);
    assert.deepEqual(l.labels, ['DET', 'NOUN', 'VERB']);
    assert.equal(l.size, 3);
    assert.deepEqual([...l.encode(['NOUN', 'VERB'])], [1, 2]);
    assert.deepEqual(l.decode(new Int32Array([2, 0])), ['VERB', 'DET']);
  });

  test('an unknown label is a DataError naming the origin', () => {
    const l = LabelSet.build(['pos', 'neg']);
    assert.throws(() => l.encode(['pos', 'meh'], { file: 'dev.tsv', line: 7 }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.message, 'dev.tsv:7: unknown label "meh" (known: neg, pos)');
      assert.equal(e.file, 'dev.tsv');
      assert.equal(e.line, 7);
      return true;
    });
    assert.throws(() => l.id('meh'), { message: '<unknown origin>: unknown label "meh" (known: neg, pos)' });
    const many = LabelSet.build(Array.from({ length: 14 }, (_, i) => `L${String(i).padStart(2, '0')}`));
    assert.throws(() => many.id('x', { file: 'f', line: 1 }), { message: 'f:1: unknown label "x" (known: L00, L01, L02, L03, L04, L05, L06, L07, L08, L09, L10, L11, ... (14 in all))' });
  });

  test('JSON round trip is exact', () => {
    const l = LabelSet.build(['b', 'a', 'c']);
    const text = JSON.stringify(l);
    assert.equal(text, '{"kind":"labels","labels":["a","b","c"]}');
    assert.equal(JSON.stringify(LabelSet.fromJSON(JSON.parse(text))), text);
    assert.throws(() => LabelSet.fromJSON({ labels: ['a'] }), QkvError);
  });
});

describe('charVocab', () => {
  test('sorted like Python sorted(set(text)), by code point', () => {
    const text = 'First Citizen:\nBefore we proceed';
    const v = charVocab(text);
    assert.deepEqual(v.chars, ['\n', ' ', ':', 'B', 'C', 'F', 'c', 'd', 'e', 'f', 'i', 'n', 'o', 'p', 'r', 's', 't', 'w', 'z']);
    assert.equal(v.decode(v.encode(text)), text);
    assert.deepEqual([...v.encode('Bee')], [3, 8, 8]);
    // code-point order (Python) differs from UTF-16 order for astral characters vs U+E000..U+FFFF
    assert.deepEqual(charVocab('\uffe9😀a').chars, ['a', '\uffe9', '😀']);
  });

  test('unknown characters and ids are errors; JSON round trip', () => {
    const v = charVocab('abc');
    assert.throws(() => v.encode('abz'), { message: 'CharVocab.encode: character "z" (U+007A) at position 2 is not in the vocabulary' });
    assert.throws(() => v.decode([3]), { message: 'CharVocab.decode: id 3 is out of range for a vocabulary of 3' });
    const text = JSON.stringify(v);
    assert.equal(JSON.stringify(CharVocab.fromJSON(JSON.parse(text))), text);
    assert.throws(() => CharVocab.fromJSON({ kind: 'chars', chars: ['ab'] }), /is not one character/);
  });
});

describe('split', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i);
  test('fractions, disjoint, covering, deterministic', () => {
    const [a, b, c] = split(xs, [0.8, 0.1, 0.1], 1);
    assert.deepEqual([a!.length, b!.length, c!.length], [80, 10, 10]);
    assert.deepEqual([...a!, ...b!, ...c!].sort((p, q) => p - q), xs);
    assert.deepEqual(split(xs, [0.8, 0.1, 0.1], 1), [a, b, c]);
    assert.notDeepEqual(split(xs, [0.8, 0.1, 0.1], 2)[0], a);
    assert.deepEqual(xs.slice(0, 3), [0, 1, 2]); // input untouched
  });

  test('a sum below 1 leaves the rest out; bad fractions are errors', () => {
    assert.deepEqual(split(xs, [0.3, 0.2], 0).map((p) => p.length), [30, 20]);
    assert.deepEqual(split([1, 2, 3], [1 / 3, 1 / 3, 1 / 3], 0).map((p) => p.length), [1, 1, 1]);
    assert.throws(() => split(xs, [0.8, 0.3], 0), /sum to 1.1/);
    assert.throws(() => split(xs, [-0.1, 0.5], 0), /fraction -0.1 is not in \[0, 1\]/);
  });
});
