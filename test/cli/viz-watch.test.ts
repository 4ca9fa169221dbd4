// Training, watched, on decoders end to end: `qkv train lm --viz` records the probe prompt's
// causal self-attention and `qkv train seq2seq --viz` the encoder's self-attention and the
// cross-attention (target x source; teacher-forced for `source => target`, else the greedy
// output of that step) at every evaluation. Each record equals the library's inspection of the
// checkpoint at that step, rows are distributions over the unblocked cells, a watched run's
// losses and final weights equal an unwatched one's, `qkv viz --export` embeds the timeline,
// and bad probes are one line (refused up front, or training goes on without recording).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { WatchRecord } from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';
import { bin, libraryDecoderInspection } from './viz-helpers.js';

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const base = mkdtempSync(join(tmpdir(), 'qkv-viz-watch-dec-'));
const text = join(base, 'text.txt');
writeFileSync(text, syntheticText(3000, 7));

const lmArgs = (out: string) => ['train', 'lm', '--data', text, '--out', join(base, out), '--max-iters', '4', '--eval-interval', '2', '--eval-iters', '2',
  '--n-layer', '2', '--n-head', '2', '--n-embd', '16', '--block-size', '32', '--batch-size', '4', '--dropout', '0.1'];
const s2sArgs = (out: string) => ['train', 'seq2seq', '--builtin', 'reverse', '--n', '60', '--out', join(base, `s2s-${out}`), '--max-steps', '4', '--eval-every', '2',
  '--d-model', '16', '--heads', '2', '--layers', '2', '--dropout', '0.1'];

function ok(r: ReturnType<typeof run>): void {
  assert.equal(r.status, 0, r.stderr);
}

function records(out: string): WatchRecord[] {
  return readFileSync(join(base, out, 'attention.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WatchRecord);
}

/** Training is the same with and without --viz: every logged loss, and the last checkpoint's weights and optimizer state byte for byte. */
function sameTraining(watched: string, plain: string): void {
  const losses = (out: string) => readFileSync(join(base, out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { loss?: number }).filter((e) => e.loss !== undefined).map((e) => e.loss);
  assert.ok(losses(plain).length >= 4);
  assert.deepEqual(losses(watched), losses(plain), 'watching changes no loss');
  for (const f of ['model.safetensors', 'optimizer.safetensors']) {
    assert.ok(readFileSync(join(base, watched, 'last', f)).equals(readFileSync(join(base, plain, 'last', f))), `${f}: watching changes no weight`);
  }
  assert.ok(!existsSync(join(base, plain, 'attention.jsonl')));
}

/** Every map is rows x cols; each row sums to 1 over its unblocked cells and is 0 where blocked. */
function distributions(maps: (number[][] | null)[][], blocked: boolean[][], rows: number, cols: number, where: string): void {
  for (const heads of maps) for (const w of heads) {
    assert.ok(w, `${where}: softmax attention has weights`);
    assert.equal(w.length, rows, where);
    w.forEach((row, i) => {
      assert.equal(row.length, cols, where);
      row.forEach((x, j) => { if (blocked[i]![j]) assert.equal(x, 0, `${where}[${i}][${j}] blocked`); });
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${where} row ${i} sums to 1`);
    });
  }
}

function near(got: unknown, want: unknown, where: string): void {
  if (typeof want === 'number') return assert.ok(typeof got === 'number' && Math.abs(got - want) <= 1e-6, `${where}: ${String(got)} vs ${want}`);
  assert.ok(Array.isArray(want) && Array.isArray(got) && got.length === want.length, `${where}: shape`);
  want.forEach((w, i) => near((got as unknown[])[i], w, `${where}[${i}]`));
}

const exportedTraining = (file: string) => (JSON.parse(/<script type="application\/json" id="qkv-data">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]!) as { training?: WatchRecord[] }).training;

describe('training, watched: qkv train lm --viz', () => {
  test('the default prompt\'s causal self-attention at every evaluation, equal to the checkpoint\'s; training unchanged; exported', () => {
    ok(run(...lmArgs('watched'), '--viz'));
    ok(run(...lmArgs('plain')));
    sameTraining('watched', 'plain');
    const rs = records('watched');
    assert.deepEqual(rs.map((r) => r.step), [2, 4], 'one record per evaluation');
    const prompt = syntheticText(3000, 7).slice(0, 12); // what train lm records as the run's prompt
    for (const r of rs) {
      assert.equal(r.part, 'causal self-attention');
      assert.equal(r.tokens.join(''), prompt);
      assert.equal(r.parts, undefined, 'no generation steps in the watch');
      r.blocked.forEach((row, i) => row.forEach((b, j) => assert.equal(b, j > i, 'causal')));
      assert.equal(r.alphaPrime.length, 2);
      distributions(r.alphaPrime, r.blocked, 12, 12, `step ${r.step}`);
    }
    const last = libraryDecoderInspection(join(base, 'watched', 'last'), 'lm', prompt, { maxNewTokens: 0 });
    assert.equal(last.generation, null);
    near(rs[1]!.alphaPrime, last.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'alphaPrime at step 4');
    const html = join(base, 'lm.html');
    ok(run('viz', '--model', join(base, 'watched'), '--export', html));
    assert.deepEqual(exportedTraining(html)!.map((r) => [r.step, r.part]), [[2, 'causal self-attention'], [4, 'causal self-attention']]);
  });

  test('bad prompts: empty is refused up front; a character the model never saw is one line and training goes on', () => {
    const empty = run(...lmArgs('empty'), '--viz', '');
    assert.equal(empty.status, 1);
    assert.equal(empty.stderr, 'qkv: --viz: give the prompt to watch, e.g. --viz "To be"\n');
    assert.ok(!existsSync(join(base, 'empty', 'last')));
    const unseen = run(...lmArgs('unseen'), '--viz', 'the Q');
    ok(unseen);
    assert.deepEqual(unseen.stderr.split('\n').filter((l) => l.startsWith('qkv:')),
      ['qkv: --viz "the Q": lm: the prompt has the character "Q" (U+0051) at position 4 (line 1, column 5), which is not in the model\'s vocabulary of 23 characters; training goes on without recording attention']);
    assert.doesNotMatch(unseen.stderr, /\n\s+at /);
    assert.ok(existsSync(join(base, 'unseen', 'last')) && !existsSync(join(base, 'unseen', 'attention.jsonl')));
  });
});

describe('training, watched: qkv train seq2seq --viz', () => {
  test('a source => target probe: encoder self-attention and cross-attention (target x source) teacher-forced, equal to the checkpoint\'s; training unchanged', () => {
    ok(run(...s2sArgs('watched'), '--viz', 'abcde => edcba'));
    ok(run(...s2sArgs('plain')));
    sameTraining('s2s-watched', 's2s-plain');
    const rs = records('s2s-watched');
    assert.deepEqual(rs.map((r) => r.step), [2, 4]);
    for (const r of rs) {
      assert.equal(r.part, 'encoder self-attention');
      assert.equal(r.target, 'teacher-forced');
      assert.deepEqual(r.tokens, [...'abcde']);
      distributions(r.alphaPrime, r.blocked, 5, 5, `encoder, step ${r.step}`);
      const [cross, ...more] = r.parts!;
      assert.equal(more.length, 0);
      assert.equal(cross!.name, 'cross-attention');
      assert.deepEqual(cross!.tokens, ['<bos>', ...'edcba'], 'rows: the decoder\'s queries, the same at every step');
      assert.deepEqual(cross!.keys, [...'abcde'], 'columns: the source');
      distributions(cross!.alphaPrime, cross!.blocked, 6, 5, `cross-attention, step ${r.step}`);
    }
    const last = libraryDecoderInspection(join(base, 's2s-watched', 'last'), 'seq2seq', { source: [...'abcde'] }, { target: [...'edcba'] });
    near(rs[1]!.alphaPrime, last.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'encoder alphaPrime at step 4');
    near(rs[1]!.parts![0]!.alphaPrime, last.parts![1]!.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'cross alphaPrime at step 4');
    const html = join(base, 's2s.html');
    ok(run('viz', '--model', join(base, 's2s-watched'), '--export', html));
    const t = exportedTraining(html)!;
    assert.deepEqual(t.map((r) => [r.step, r.parts![0]!.name, r.parts![0]!.alphaPrime[0]![0]!.length]), [[2, 'cross-attention', 6], [4, 'cross-attention', 6]]);
  });

  test('a bare source: the rows are the greedy output at each step; the default probe is the built-in example, teacher-forced', () => {
    ok(run(...s2sArgs('greedy'), '--viz', 'abcd'));
    const rs = records('s2s-greedy');
    const last = libraryDecoderInspection(join(base, 's2s-greedy', 'last'), 'seq2seq', { source: [...'abcd'] });
    const r = rs.at(-1)!;
    assert.equal(r.target, 'greedy');
    assert.deepEqual(r.parts![0]!.tokens, last.parts![1]!.tokens, 'rows: <bos> + the greedy output at step 4');
    distributions(r.parts![0]!.alphaPrime, r.parts![0]!.blocked, last.parts![1]!.tokens.length, 4, 'greedy cross-attention');
    near(r.parts![0]!.alphaPrime, last.parts![1]!.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'greedy cross alphaPrime');
    ok(run(...s2sArgs('default'), '--viz'));
    const d = records('s2s-default')[0]!;
    assert.equal(d.target, 'teacher-forced');
    assert.deepEqual(d.parts![0]!.tokens.slice(1), [...d.tokens].reverse(), 'the built-in reverse example with its own target');
    // data from a file: the first held-out pair, split as the data is (words here)
    const tsv = join(base, 'pairs.tsv');
    writeFileSync(tsv, 'the cat\tle chat\na dog\tun chien\nthe dog\tle chien\na cat\tun chat\n');
    ok(run('train', 'seq2seq', '--train', tsv, '--tokenize', 'words', '--out', join(base, 's2s-words'), '--max-steps', '2', '--eval-every', '2',
      '--d-model', '8', '--heads', '2', '--layers', '1', '--viz'));
    const words = records('s2s-words')[0]!;
    assert.deepEqual([words.tokens, words.parts![0]!.tokens, words.parts![0]!.keys, words.target], [['the', 'cat'], ['<bos>', 'le', 'chat'], ['the', 'cat'], 'teacher-forced']);
  });

  test('bad probes: an empty source or target is refused up front, one line', () => {
    for (const [probe, line] of [[' => x', 'qkv: --viz: give the source to watch, e.g. --viz "abc => cba" (a target after => or a tab is teacher-forced)\n'],
      ['ab =>', 'qkv: --viz: the target after the => (or tab) of "ab =>" is empty\n']] as const) {
      const r = run(...s2sArgs('bad'), '--viz', probe);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, line);
      assert.ok(!existsSync(join(base, 's2s-bad', 'last')));
    }
  });
});
