// The file readers: each format on small inline texts (LF, CRLF, no final newline), origins,
// and the exact "file:line: reason" text of every malformed case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError, readClassifyTsv, readConll, readConllu, readFramesJsonl, readGraphJsonl, readPairsTsv } from '../../src/data/index.js';

/** Asserts that fn throws a DataError with exactly this message. */
function throwsData(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

const row = (id: string, form: string, upos: string, xpos = '_') => [id, form, form.toLowerCase(), upos, xpos, '_', '0', 'root', '_', '_'].join('\t');

const CONLLU = [
  '# sent_id = 1',
  '# text = I saw a saw',
  row('1', 'I', 'PRON', 'PRP'),
  row('2', 'saw', 'VERB', 'VBD'),
  row('3', 'a', 'DET', 'DT'),
  row('4', 'saw', 'NOUN', 'NN'),
  '',
  '# sent_id = 2',
  row('1-2', "Don't", '_'),
  row('1', 'Do', 'AUX', 'VBP'),
  row('2', "n't", 'PART', 'RB'),
  row('2.1', 'go', 'VERB', 'VB'),
  row('3', 'go', 'VERB', 'VB'),
].join('\n');

describe('readConllu', () => {
  test('UPOS and XPOS columns, comments, multiword tokens and empty nodes skipped, origins', () => {
    const ex = readConllu(CONLLU, 'ud.conllu');
    assert.deepEqual(ex, [
      { tokens: ['I', 'saw', 'a', 'saw'], labels: ['PRON', 'VERB', 'DET', 'NOUN'], origin: { file: 'ud.conllu', line: 3 } },
      { tokens: ['Do', "n't", 'go'], labels: ['AUX', 'PART', 'VERB'], origin: { file: 'ud.conllu', line: 10 } },
    ]);
    assert.deepEqual(readConllu(CONLLU, 'ud.conllu', { column: 'xpos' }).map((e) => e.labels), [['PRP', 'VBD', 'DT', 'NN'], ['VBP', 'RB', 'VB']]);
  });

  test('CRLF line endings and a trailing newline give the same result', () => {
    const plain = readConllu(CONLLU, 'f');
    assert.deepEqual(readConllu(CONLLU.replace(/\n/g, '\r\n'), 'f'), plain);
    assert.deepEqual(readConllu(`${CONLLU}\r\n\r\n`, 'f'), plain);
  });

  test('errors name file and line', () => {
    throwsData(() => readConllu(`${row('1', 'I', 'PRON')}\n1\tsaw\tVERB\n`, 'bad.conllu'), 'bad.conllu:2: expected 10 tab-separated fields, found 3');
    throwsData(() => readConllu(row('x', 'I', 'PRON'), 'bad.conllu'), 'bad.conllu:1: ID "x" is not an integer');
    throwsData(() => readConllu(`${row('1', 'I', 'PRON')}\n${row('3', 'a', 'DET')}`, 'bad.conllu'), 'bad.conllu:2: ID 3 out of order (expected 2)');
    throwsData(() => readConllu(`${row('1', 'I', 'PRON', 'PRP')}\n${row('2', 'saw', 'VERB')}`, 'u.conllu', { column: 'xpos' }), 'u.conllu:2: no XPOS tag ("_"); this treebank may have only UPOS');
    throwsData(() => readConllu(row('1', 'I', '_'), 'u.conllu'), 'u.conllu:1: no UPOS tag ("_")');
    throwsData(() => readConllu('', 'empty.conllu'), 'empty.conllu: no sentences (the file is empty or has only blank lines)');
    throwsData(() => readConllu('# only a comment\n\n', 'c.conllu'), 'c.conllu: no sentences (the file is empty or has only blank lines)');
  });
});

describe('readConll', () => {
  test('tab or spaces, blank lines between sentences, -DOCSTART- skipped, CRLF, no final newline', () => {
    const text = '-DOCSTART- O\r\n\r\nEU\tB-ORG\r\nrejects   O\r\n\r\n\r\nPeter B-PER\r\nBlackburn\tI-PER';
    assert.deepEqual(readConll(text, 'ner.txt'), [
      { tokens: ['EU', 'rejects'], labels: ['B-ORG', 'O'], origin: { file: 'ner.txt', line: 3 } },
      { tokens: ['Peter', 'Blackburn'], labels: ['B-PER', 'I-PER'], origin: { file: 'ner.txt', line: 7 } },
    ]);
  });

  test('errors', () => {
    throwsData(() => readConll('EU B-ORG\nrejects\n', 'ner.txt'), 'ner.txt:2: expected 2 columns (word and tag), found 1');
    throwsData(() => readConll('EU NNP B-NP B-ORG\n', 'ner.txt'), 'ner.txt:1: expected 2 columns (word and tag), found 4');
    throwsData(() => readConll('-DOCSTART- O\n\n', 'ner.txt'), 'ner.txt: no sentences (the file is empty or has only blank lines)');
  });
});

describe('readClassifyTsv', () => {
  test('text<TAB>label rows, blank lines skipped, CRLF, no final newline', () => {
    assert.deepEqual(readClassifyTsv('a great  movie\tpos\r\n\r\nawful\tneg ', 'sst.tsv'), [
      { tokens: ['a', 'great', 'movie'], label: 'pos', origin: { file: 'sst.tsv', line: 1 } },
      { tokens: ['awful'], label: 'neg', origin: { file: 'sst.tsv', line: 3 } },
    ]);
  });

  test('errors', () => {
    throwsData(() => readClassifyTsv('good\tpos\nbad neg\n', 'sst.tsv'), 'sst.tsv:2: no tab: expected text<TAB>label');
    throwsData(() => readClassifyTsv('good\tpos\textra\n', 'sst.tsv'), 'sst.tsv:1: expected text<TAB>label, found 3 tab-separated fields');
    throwsData(() => readClassifyTsv('  \tpos\n', 'sst.tsv'), 'sst.tsv:1: empty text');
    throwsData(() => readClassifyTsv('good\t\n', 'sst.tsv'), 'sst.tsv:1: empty label');
    throwsData(() => readClassifyTsv('', 'sst.tsv'), 'sst.tsv: no examples (the file is empty or has only blank lines)');
    throwsData(() => readClassifyTsv('\n \r\n', 'sst.tsv'), 'sst.tsv: no examples (the file is empty or has only blank lines)');
  });
});

describe('readPairsTsv', () => {
  test('chars and words', () => {
    const text = 'ab c\tc ba\r\nxy\tyx';
    assert.deepEqual(readPairsTsv(text, 'p.tsv', { tokenize: 'chars' }), [
      { source: ['a', 'b', ' ', 'c'], target: ['c', ' ', 'b', 'a'], origin: { file: 'p.tsv', line: 1 } },
      { source: ['x', 'y'], target: ['y', 'x'], origin: { file: 'p.tsv', line: 2 } },
    ]);
    assert.deepEqual(readPairsTsv('the cat\tle  chat\n', 'p.tsv', { tokenize: 'words' }).map((e) => [e.source, e.target]), [[['the', 'cat'], ['le', 'chat']]]);
  });

  test('errors', () => {
    throwsData(() => readPairsTsv('abc\n', 'p.tsv', { tokenize: 'chars' }), 'p.tsv:1: no tab: expected source<TAB>target');
    throwsData(() => readPairsTsv('ab\tba\n\t x\n', 'p.tsv', { tokenize: 'chars' }), 'p.tsv:2: empty source');
    throwsData(() => readPairsTsv('ab\t\n', 'p.tsv', { tokenize: 'words' }), 'p.tsv:1: empty target');
    throwsData(() => readPairsTsv('a\tb', 'p.tsv', { tokenize: 'bytes' as 'chars' }), 'p.tsv: tokenize must be "chars" or "words", not "bytes"');
  });
});

describe('readFramesJsonl', () => {
  const tag = '{"frames": [[1, 2], [3, 4.5]], "labels": ["a", "b"]}\r\n\r\n{"frames": [[0, -1e-3]], "labels": ["b"], "id": 7}';
  test('labels per frame (tag), CRLF, blank lines, no final newline, other keys ignored', () => {
    assert.deepEqual(readFramesJsonl(tag, 'f.jsonl'), [
      { frames: [[1, 2], [3, 4.5]], labels: ['a', 'b'], origin: { file: 'f.jsonl', line: 1 } },
      { frames: [[0, -1e-3]], labels: ['b'], origin: { file: 'f.jsonl', line: 3 } },
    ]);
    assert.equal(readFramesJsonl(tag, 'f.jsonl', { mode: 'tag' }).length, 2);
  });

  test('one label per sequence (classify)', () => {
    const ex = readFramesJsonl('{"frames": [[1], [2], [3]], "label": "up"}\n', 'c.jsonl', { mode: 'classify' });
    assert.deepEqual(ex, [{ frames: [[1], [2], [3]], label: 'up', origin: { file: 'c.jsonl', line: 1 } }]);
  });

  test('errors', () => {
    const f = 'f.jsonl';
    throwsData(() => readFramesJsonl('{"frames": [[1, 2]], "labels": ["a"]}\n{"frames": [[1, 2]], "labels": ["a"]\n', f), 'f.jsonl:2: not valid JSON');
    throwsData(() => readFramesJsonl('[1, 2]', f), 'f.jsonl:1: expected a JSON object');
    throwsData(() => readFramesJsonl('{"frames": [[1, 2], [3, 4]], "labels": ["a", "b"]}\n{"frames": [[1, 2, 3]], "labels": ["a"]}', f), 'f.jsonl:2: frames have dimension 3, but line 1 has dimension 2');
    throwsData(() => readFramesJsonl('{"frames": [[1, 2], [3]], "labels": ["a", "b"]}', f), 'f.jsonl:1: frame 1 has 1 values, but frame 0 has 2');
    throwsData(() => readFramesJsonl('{"frames": [[1, 2], [3, 4]], "labels": ["a"]}', f), 'f.jsonl:1: 1 labels for 2 frames');
    throwsData(() => readFramesJsonl('{"frames": [[1, 1e999]], "labels": ["a"]}', f), 'f.jsonl:1: frame 0, value 1 is not a finite number');
    throwsData(() => readFramesJsonl('{"frames": [[1, null]], "labels": ["a"]}', f), 'f.jsonl:1: frame 0, value 1 is not a finite number');
    throwsData(() => readFramesJsonl('{"frames": [], "labels": []}', f), 'f.jsonl:1: "frames" is empty');
    throwsData(() => readFramesJsonl('{"frame": [[1]], "labels": ["a"]}', f), 'f.jsonl:1: "frames" must be an array of frame vectors');
    throwsData(() => readFramesJsonl('{"frames": [[1]]}', f), 'f.jsonl:1: no "labels" (one per position) or "label" (one per sequence)');
    throwsData(() => readFramesJsonl('{"frames": [[1]], "labels": ["a"], "label": "a"}', f), 'f.jsonl:1: has both "labels" and "label"; give one');
    throwsData(() => readFramesJsonl('{"frames": [[1]], "labels": ["a"]}\n{"frames": [[1]], "label": "a"}', f), 'f.jsonl:2: has "label", but line 1 has "labels"; a file holds one kind');
    throwsData(() => readFramesJsonl('{"frames": [[1]], "labels": ["a"]}', f, { mode: 'classify' }), 'f.jsonl:1: expected "label" (mode classify), found "labels"');
    throwsData(() => readFramesJsonl('{"frames": [[1]], "labels": [3]}', f), 'f.jsonl:1: label 0 must be a non-empty string');
    throwsData(() => readFramesJsonl('{"frames": [[1]], "label": ""}', f), 'f.jsonl:1: "label" must be a non-empty string');
    throwsData(() => readFramesJsonl('\n\n', f), 'f.jsonl: no examples (the file is empty or has only blank lines)');
  });
});

describe('readGraphJsonl', () => {
  test('node features or tokens, edges, labels per node or per graph', () => {
    const text = '{"nodes": [[1, 0], [0, 1], [1, 1]], "edges": [[0, 1], [2, 1]], "labels": ["x", "y", "x"]}\r\n{"nodes": [[0, 0]], "edges": [], "labels": ["y"]}';
    assert.deepEqual(readGraphJsonl(text, 'g.jsonl'), [
      { frames: [[1, 0], [0, 1], [1, 1]], edges: [[0, 1], [2, 1]], labels: ['x', 'y', 'x'], origin: { file: 'g.jsonl', line: 1 } },
      { frames: [[0, 0]], edges: [], labels: ['y'], origin: { file: 'g.jsonl', line: 2 } },
    ]);
    assert.deepEqual(readGraphJsonl('{"tokens": ["the", "cat"], "edges": [[0, 1]], "label": "np"}\n', 'g.jsonl'), [
      { tokens: ['the', 'cat'], edges: [[0, 1]], label: 'np', origin: { file: 'g.jsonl', line: 1 } },
    ]);
  });

  test('errors', () => {
    const g = 'g.jsonl';
    throwsData(() => readGraphJsonl('{"nodes": [[1], [2], [3]], "edges": [[0, 1], [1, 3]], "labels": ["a", "a", "b"]}', g), 'g.jsonl:1: edge 1 [1, 3] is out of range for 3 nodes (indices 0..2)');
    throwsData(() => readGraphJsonl('{"tokens": ["a", "b"], "edges": [[0, -1]], "label": "s"}', g), 'g.jsonl:1: edge 0 [0, -1] is out of range for 2 nodes (indices 0..1)');
    throwsData(() => readGraphJsonl('{"tokens": ["a", "b"], "edges": [[0, 1, 1]], "label": "s"}', g), 'g.jsonl:1: edge 0 must be a pair of integer node indices [from, to], found [0,1,1]');
    throwsData(() => readGraphJsonl('{"tokens": ["a", "b"], "edges": [[0, 0.5]], "label": "s"}', g), 'g.jsonl:1: edge 0 must be a pair of integer node indices [from, to], found [0,0.5]');
    throwsData(() => readGraphJsonl('{"tokens": ["a", "b"], "label": "s"}', g), 'g.jsonl:1: no "edges" (give [] for a graph without edges)');
    throwsData(() => readGraphJsonl('{"edges": [], "label": "s"}', g), 'g.jsonl:1: no "nodes" (feature vectors) or "tokens" (words)');
    throwsData(() => readGraphJsonl('{"nodes": [[1]], "tokens": ["a"], "edges": [], "label": "s"}', g), 'g.jsonl:1: has both "nodes" and "tokens"; give one');
    throwsData(() => readGraphJsonl('{"nodes": [[1, 2]], "edges": [], "label": "s"}\n{"nodes": [[1]], "edges": [], "label": "s"}', g), 'g.jsonl:2: node features have dimension 1, but line 1 has dimension 2');
    throwsData(() => readGraphJsonl('{"nodes": [[1]], "edges": [], "label": "s"}\n{"tokens": ["a"], "edges": [], "label": "s"}', g), 'g.jsonl:2: has "tokens", but line 1 has "nodes"; a file holds one kind');
    throwsData(() => readGraphJsonl('{"nodes": [[1], [2]], "edges": [], "labels": ["a"]}', g), 'g.jsonl:1: 1 labels for 2 nodes');
    throwsData(() => readGraphJsonl('{"tokens": ["a"], "edges": [], "label": "s"', g), 'g.jsonl:1: not valid JSON');
  });
});
