// `qkv viz` for models that read files: a speech model (WAV, log-mel front end) and an image
// model (patches). The server's example and the file the page posts equal the library's
// inspection; the file post is refused unless it is this page's (content type, Origin, size);
// --input names a file, read at once, with one readable line when it is not one; --export of an
// image model embeds its picture and patch grid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { classifyDriver, data, inspectModel, loadInstance, readBinaryFile, type InspectableModel, type ModelInspection, type TaskDriver, type TaskInstance } from '../../src/index.js';
import { bin, mediaModel, SPOKEN, startViz, stop, tinyModel, type Running } from './viz-helpers.js';

interface Reply { status: number; body: string }

function send(url: string, path: string, method: string, headers: Record<string, string | number>, body?: Uint8Array): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (url: string, bytes: Uint8Array, headers: Record<string, string | number> = {}) =>
  send(url, '/api/inspect-file?name=clip.wav', 'POST', { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length, ...headers }, bytes);

const load = (dir: string) => loadInstance(classifyDriver as unknown as TaskDriver<TaskInstance, unknown, unknown, unknown>, dir).instance as unknown as InspectableModel;

function wavInspection(dir: string, wav: string): ModelInspection {
  const m = load(dir);
  const fe = (m.config as unknown as { featurizer: { frontEnd: data.AudioFrontEnd } }).featurizer.frontEnd;
  return inspectModel(m, { frames: data.wavFeatures(readBinaryFile(wav), wav, fe) });
}

/** alpha' of every layer and head agree to 1e-6. */
function sameWeights(got: ModelInspection, want: ModelInspection, where: string): void {
  assert.deepEqual(got.tokens, want.tokens, `${where}: tokens`);
  want.layers.forEach((l, li) => l.heads.forEach((hd, h) => hd.alphaPrime!.forEach((row, i) => row.forEach((x, j) => {
    assert.ok(Math.abs(got.layers[li]!.heads[h]!.alphaPrime![i]![j]! - x) <= 1e-6, `${where}: layer ${li} head ${h} alpha'[${i}][${j}]`);
  }))));
}

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('qkv viz: a speech model reads WAV files', () => {
  let dir: string;
  let viz: Running;
  const first = () => readFileSync(join(SPOKEN, 'list.tsv'), 'utf8').split('\n')[0]!.split('\t')[0]!;
  before(async () => {
    dir = mediaModel('spoken');
    viz = await startViz(['--model', dir]);
  });
  after(async () => { if (viz) await stop(viz); });

  test('the model says it reads audio and names its example; /api/example is the spoken set\'s first recording', async () => {
    const model = JSON.parse((await send(viz.url, '/api/model', 'GET', {})).body) as { model: { media: string; example: string; input: string } };
    assert.equal(model.model.media, 'audio');
    assert.equal(model.model.example, `${first()} (the built-in spoken set)`);
    const r = await send(viz.url, '/api/example', 'GET', {});
    assert.equal(r.status, 200, r.body);
    const got = (JSON.parse(r.body) as { result: ModelInspection }).result;
    sameWeights(got, wavInspection(dir, join(SPOKEN, first())), 'example');
    assert.equal(got.frameMs, 10);
    assert.equal(got.frames!.length, got.tokens.length);
    assert.equal(got.tokens[0], 'frame 1');
  });

  test('a posted WAV equals the library\'s; posts that are not this page\'s are refused', async () => {
    const wav = join(SPOKEN, 'cat-03.wav');
    const bytes = readBinaryFile(wav);
    const r = await post(viz.url, bytes, { Origin: viz.url.replace(/\/$/, '') });
    assert.equal(r.status, 200, r.body);
    sameWeights((JSON.parse(r.body) as { result: ModelInspection }).result, wavInspection(dir, wav), 'posted');
    assert.equal((await post(viz.url, bytes, { 'Content-Type': 'text/plain' })).status, 415, 'a cross-site form cannot send octet-stream');
    assert.equal((await post(viz.url, bytes, { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await post(viz.url, bytes, { 'Content-Length': 64 * 1024 * 1024 })).status, 413);
    assert.equal((await send(viz.url, '/', 'POST', { 'Content-Type': 'application/octet-stream', 'Content-Length': 2 }, new Uint8Array(2))).status, 405);
    const bad = await post(viz.url, new TextEncoder().encode('hello'));
    assert.equal(bad.status, 400);
    assert.match(bad.body, /clip\.wav: not a WAV file/);
  });

  test('--input FILE: the served page opens on it; a file that is not a WAV is one line', async () => {
    const wav = join(SPOKEN, 'act-00.wav');
    const given = await startViz(['--model', dir, '--input', wav]);
    try {
      const r = JSON.parse((await send(given.url, '/api/example', 'GET', {})).body) as { result: ModelInspection };
      sameWeights(r.result, wavInspection(dir, wav), '--input');
    } finally {
      await stop(given);
    }
    const bad = run('viz', '--model', dir, '--input', join(SPOKEN, 'list.tsv'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^qkv: --input .*list\.tsv: not a WAV file \(this model reads audio\)\n$/);
    const missing = run('viz', '--model', dir, '--export', join(mkdtempSync(join(tmpdir(), 'qkv-viz-')), 'x.html'), '--input', 'no-such.wav');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^qkv: --input "no-such\.wav": file not found\n$/);
  });
});

test('qkv viz --export of an image model: the picture, its patch grid and the class token, equal to the library\'s', () => {
  const dir = mediaModel('shapes');
  const out = join(mkdtempSync(join(tmpdir(), 'qkv-viz-')), 'shapes.html');
  const r = run('viz', '--model', dir, '--export', out);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  const embedded = JSON.parse(/<script type="application\/json" id="qkv-data">(.*?)<\/script>/s.exec(html)![1]!) as { model: { media: string; input: string }; inspections: { input: string; result: ModelInspection }[] };
  assert.equal(embedded.model.media, 'image');
  assert.equal(embedded.model.input, 'image');
  const got = embedded.inspections[0]!.result;
  assert.match(embedded.inspections[0]!.input, /^a generated shapes image \(label \w+\)$/);
  const example = (data.builtinDataset('shapes', { seed: 12345, n: 1 }) as data.ClassifiedExample[])[0]!;
  const want = inspectModel(load(dir), { image: example.image! });
  sameWeights(got, want, 'exported');
  assert.deepEqual({ ...got.image!, pixels: null }, { channels: 1, height: 16, width: 16, pixels: null, patch: 4, rows: 4, cols: 4, cls: true });
  assert.equal(got.tokens[0], '[CLS]');
  assert.equal(got.tokens[16], 'patch 4,4');
  got.image!.pixels[0]!.forEach((row, y) => row.forEach((x, c) => assert.ok(Math.abs(x - example.image!.data[y * 16 + c]!) <= 1e-6)));
});

test('a model that reads typed input refuses file posts', async () => {
  const viz = await startViz(['--model', tinyModel()]);
  try {
    const r = await post(viz.url, new Uint8Array(4));
    assert.equal(r.status, 400);
    assert.match(r.body, /this model reads typed input, not files/);
  } finally {
    await stop(viz);
  }
});
