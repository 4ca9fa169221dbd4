// The playground's model code in Node (through the browser entry, which here falls back to the
// reference backend): the settings' checks, the probe's checks, a run whose live tensors stay
// flat step after step (a tab trains for minutes), and the .tar the page downloads, unpacked by
// the system's tar into a checkpoint loadModel reads with the same weights.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { memory } from '../../src/browser.js';
import { PlayRun } from '../../web/playground/run.js';
import { checkSettings, DEFAULT_SETTINGS, type PlaySettings } from '../../web/playground/settings.js';
import { playData, playTask } from '../../web/playground/tasks.js';
import { tarDirectory } from '../../web/playground/tar.js';
import { readAddress } from '../../web/playground/address.js';
import { loadModel } from '../../src/index.js';

const tiny: PlaySettings = { ...DEFAULT_SETTINGS, width: 8, layers: 1, heads: 2 };

describe('the playground\'s runs', () => {
  test('settings that cannot make a model are one line naming the setting', () => {
    const bad: [Partial<PlaySettings>, RegExp][] = [
      [{ heads: 0 }, /heads must be a whole number from 1 to 16, got 0/],
      [{ width: 30, heads: 4 }, /width 30 is not divisible by 4 heads/],
      [{ width: Number.NaN }, /width must be a whole number from 2 to 256, got nothing/],
      [{ relevance: 'additive', normalizer: 'relu' }, /no attention kind computes additive relevance with ReLU/],
      [{ width: 6, heads: 2, pos: 'rope' }, /each head's width \(6 \/ 2 = 3\) must be even/],
      [{ linear: true, window: 2 }, /linear attention cannot be truncated to a window/],
      [{ lr: 0 }, /learning rate must be a number above 0/],
    ];
    for (const [change, message] of bad) assert.throws(() => checkSettings({ ...tiny, ...change }, 'tag'), message, JSON.stringify(change));
    assert.throws(() => checkSettings({ ...tiny, model: 'cnn' }, 'seq2seq'), /encoder-decoder Transformer: pick self-attention/);
    // settings a baseline ignores are not checked for it
    checkSettings({ ...tiny, model: 'fc', heads: 0 }, 'tag');
  });

  test('the address sets the task, probe, steps and each model; what it cannot read is named', () => {
    const a = readAddress('?task=graph&probe=3&steps=50&a.model=rnn&b.heads=4&b.linear=1&b.width=&b.lr=0.01');
    assert.equal(a.task, 'graph');
    assert.equal(a.probe, '3');
    assert.equal(a.steps, '50');
    assert.deepEqual(a.models.A, { model: 'rnn' });
    assert.deepEqual(a.models.B, { heads: 4, linear: true, width: Number.NaN, lr: 0.01 });
    assert.deepEqual(a.problems, []);
    const bad = readAddress('?task=nope&c.model=fc&a.colour=red&backend=wasm');
    assert.equal(bad.task, undefined);
    assert.equal(bad.problems.length, 3, bad.problems.join('\n'));
    assert.match(bad.problems[0]!, /task=nope is not a task \(ambiguity, marker, graph, reverse\)/);
  });

  test('a bad probe is one line; a run\'s live tensors stay flat; the .tar is a checkpoint loadModel reads', async () => {
    const task = playTask('ambiguity');
    const run = PlayRun.create(task, tiny, playData('ambiguity', 1), 1);
    try {
      assert.throws(() => run.probeInput('  '), /the probe is empty/);
      assert.throws(() => run.probeInput('I saw a zebra'), /unknown word "zebra": the model knows only/);
      for (let i = 0; i < 3; i++) await run.trainStep();
      await run.evaluate();
      run.record(await run.attention(run.probeInput('I saw a saw')));
      const live = memory().tensors;
      for (let i = 0; i < 3; i++) await run.trainStep();
      await run.evaluate();
      run.record(await run.attention(run.probeInput('I saw a saw')));
      assert.equal(memory().tensors, live, 'no tensor is left behind by a step, an evaluation or a probe');
      const dir = mkdtempSync(join(tmpdir(), 'qkv-playground-run-'));
      const files = await run.checkpointFiles();
      writeFileSync(join(dir, 'run.tar'), tarDirectory('saved', files));
      const untar = spawnSync('tar', ['-xf', join(dir, 'run.tar'), '-C', dir], { encoding: 'utf8' });
      assert.equal(untar.status, 0, untar.stderr);
      assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'saved', 'model.safetensors'))), files['model.safetensors']);
      assert.equal(readFileSync(join(dir, 'saved', 'attention.jsonl'), 'utf8').trim().split('\n').length, 2, 'one α′ record per evaluation');
      const m = loadModel(join(dir, 'saved'));
      assert.equal(m.task, 'tag');
      assert.equal(m.config.step, 6);
      const own = run.instance.model.stateDict();
      for (const [name, t] of m.instance.model.stateDict()) assert.deepEqual(Array.from(t.toTypedArray()), Array.from(own.get(name)!.toTypedArray()), name);
    } finally {
      run.dispose();
    }
  });
});
