// The report sends each experiment to the playground with its settings: the settings are the
// playground's own address (read by the page's readAddress without a problem, each model's
// settings passing the page's checks for the task, the two models differing), the report names
// the command and links to the page on the default port, and `qkv playground --experiment NAME`
// serves the page at that address; without --port the playground takes the port the links name.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { experiments } from '../../src/index.js';
import { PLAYGROUND_EXPERIMENTS, PLAYGROUND_PORT, playgroundLink } from '../../cli/playground-links.js';
import { writeReport } from '../../cli/report.js';
import { readAddress } from '../../web/playground/address.js';
import { checkSettings, DEFAULT_SETTINGS } from '../../web/playground/settings.js';
import { playTask } from '../../web/playground/tasks.js';
import { bin } from './viz-helpers.js';

test('every experiment opens a valid comparison of two different models in the playground', () => {
  assert.deepEqual([...PLAYGROUND_EXPERIMENTS].sort(), [...experiments.experimentNames()].sort());
  for (const name of experiments.experimentNames()) {
    const link = playgroundLink(name)!;
    const read = readAddress(link.query);
    assert.deepEqual(read.problems, [], name);
    assert.ok(read.task, `${name}: names a task`);
    const [a, b] = [{ ...DEFAULT_SETTINGS, ...read.models.A }, { ...DEFAULT_SETTINGS, ...read.models.B }];
    for (const s of [a, b]) checkSettings(s, playTask(read.task!).task);
    assert.notDeepEqual(a, b, `${name}: the two models differ`);
  }
  assert.equal(playgroundLink('no-such-experiment'), null);
});

test('the report links to the comparison on the playground\'s default port and names the command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-report-'));
  const result = {
    name: 'fc-vs-attention', title: 'FC vs attention', section: '§3', claim: 'x', size: 'quick', seeds: [0], seconds: 1, backend: 'ref', config: {},
    measures: {}, summary: [], charts: [], verdict: { held: true, text: 'y' }, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z',
  } as unknown as Parameters<typeof writeReport>[1][number];
  const html = readFileSync(writeReport(dir, [result], {}), 'utf8');
  const link = playgroundLink('fc-vs-attention')!;
  assert.equal(link.url, `http://127.0.0.1:${PLAYGROUND_PORT}/${link.query}`);
  const href = /<p class="playground"><a href="([^"]+)">Try it in the playground<\/a>: the same two taggers/.exec(html);
  assert.ok(href, 'the report links to the playground');
  assert.equal(href[1]!.replaceAll('&amp;', '&'), link.url);
  assert.match(html, /<code>qkv playground --experiment fc-vs-attention<\/code> opens it on any port/);
});

test('qkv playground --experiment prints the address with the settings; an unknown one is one line', async () => {
  const bad = spawnSync(process.execPath, [bin, 'playground', '--experiment', 'nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^qkv: --experiment nope: not an experiment the playground shows \(fc-vs-attention, /);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const child = spawn(process.execPath, [bin, 'playground', '--port', '0', '--experiment', 'heads'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL: ${out}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /^qkv playground: (http:\/\/127\.0\.0\.1:\d+\/\S*) \(Ctrl-C to stop\)$/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
    });
    const u = new URL(url);
    assert.equal(u.search, playgroundLink('heads')!.query);
    const page = await fetch(url);
    assert.equal(page.status, 200);
  } finally {
    child.kill();
  }
});

/** The address `qkv playground` prints, and its stderr so far. */
function served(child: ChildProcess): Promise<{ url: URL; stderr: () => string }> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL: ${out} ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^qkv playground: (http:\/\/127\.0\.0\.1:\d+\/\S*) \(Ctrl-C to stop\)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: new URL(m[1]!), stderr: () => err }); }
    });
  });
}

test('without --port the playground serves on the port the report links to, or says it took another', async (t) => {
  // hold the default port: the playground must take a free one and say so
  const holder: Server = createServer();
  const held = await new Promise<boolean>((resolve) => {
    holder.once('error', () => resolve(false)); // already taken by something else: taken all the same
    holder.listen(PLAYGROUND_PORT, '127.0.0.1', () => resolve(true));
  });
  let child = spawn(process.execPath, [bin, 'playground'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const { url, stderr } = await served(child);
    assert.notEqual(Number(url.port), PLAYGROUND_PORT);
    assert.equal((await fetch(url)).status, 200);
    assert.match(stderr(), new RegExp(`^qkv playground: port ${PLAYGROUND_PORT} is taken, serving on a free one`));
  } finally {
    child.kill();
    if (held) await new Promise((r) => holder.close(r));
  }
  if (!held) { t.skip(`port ${PLAYGROUND_PORT} is held by another process: the default itself cannot be checked here`); return; }
  child = spawn(process.execPath, [bin, 'playground', '--experiment', 'heads'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const { url, stderr } = await served(child);
    assert.equal(url.href, playgroundLink('heads')!.url);
    assert.equal(stderr(), '');
  } finally {
    child.kill();
  }
});
