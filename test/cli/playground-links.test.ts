// The report links every experiment to the playground with its settings: one of the
// playground's tasks and models, every setting one value or two (left, right), and the link
// in the written report.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { experiments } from '../../src/index.js';
import { PLAYGROUND_PAGE, playgroundLink } from '../../cli/playground-links.js';
import { writeReport } from '../../cli/report.js';

const VALUES: Record<string, RegExp> = {
  task: /^(ambiguity|marker|graph|seq2seq)$/, model: /^(fc|window|cnn|rnn|attention)$/, relevance: /^(dot|additive)$/, normalizer: /^(softmax|relu)$/,
  heads: /^[1-9]\d*$/, pos: /^(none|sinusoidal|learned|rope)$/, window: /^([1-9]\d*|all)$/, linear: /^(true|false)$/,
};

test('every experiment has a playground link of known settings, at most two models side by side', () => {
  for (const name of experiments.experimentNames()) {
    const link = playgroundLink(name);
    assert.ok(link, `${name} has a playground link`);
    const url = new URL(link.href, 'http://x/');
    assert.equal(url.pathname, `/${PLAYGROUND_PAGE}`);
    const models = url.searchParams.get('model')!.split(',');
    assert.ok(models.length >= 1 && models.length <= 2, `${name}: one or two models`);
    for (const [k, v] of url.searchParams) {
      assert.ok(VALUES[k], `${name}: unknown setting ${k}`);
      const values = v.split(',');
      assert.ok(k === 'task' ? values.length === 1 : values.length === 1 || values.length === models.length, `${name}: ${k}=${v} is one value or one per model`);
      for (const x of values) assert.match(x, VALUES[k]!, `${name}: ${k}=${x}`);
    }
  }
  assert.equal(playgroundLink('no-such-experiment'), null);
});

test('the report carries each experiment\'s link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-report-'));
  const result = {
    name: 'fc-vs-attention', title: 'FC vs attention', section: '§3', claim: 'x', size: 'quick', seeds: [0], seconds: 1, backend: 'ref', config: {},
    measures: {}, summary: [], charts: [], verdict: { held: true, text: 'y' }, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z',
  } as unknown as Parameters<typeof writeReport>[1][number];
  const html = readFileSync(writeReport(dir, [result], {}), 'utf8');
  assert.match(html, /<p class="playground"><a href="playground\.html\?task=ambiguity&amp;model=fc%2Cattention">Try it in the playground<\/a>/);
});
