// `qkv viz` on decoders end to end: a GPT trained by `qkv train lm` and a seq2seq model trained
// by `qkv train seq2seq` (a few steps each) export pages whose embedded numbers equal the
// library's (the prompt's causal attention, every generation step; encoder, decoder and
// cross-attention); the server takes the page's "new tokens"; empty prompts, characters the
// model never saw, too many tokens and flags that do not apply are one readable line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelInspection } from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';
import { bin, libraryDecoderInspection, startViz, stop, type Running } from './viz-helpers.js';

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const base = mkdtempSync(join(tmpdir(), 'qkv-viz-dec-'));

function assertClose(got: unknown, want: unknown, where: string): void {
  if (typeof want === 'number') return assert.ok(typeof got === 'number' && Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${where}: ${String(got)} vs ${want}`);
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${where}: length`);
    return want.forEach((w, i) => assertClose((got as unknown[])[i], w, `${where}[${i}]`));
  }
  if (want && typeof want === 'object') return Object.entries(want).forEach(([k, w]) => assertClose((got as Record<string, unknown>)[k], w, `${where}.${k}`));
  assert.deepEqual(got, want, where);
}

function exported(file: string): { input: string; result: ModelInspection }[] {
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'self-contained');
  return (JSON.parse(/<script type="application\/json" id="qkv-data">(.*?)<\/script>/s.exec(html)![1]!) as { inspections: { input: string; result: ModelInspection }[] }).inspections;
}

function oneLine(r: ReturnType<typeof run>, pattern: RegExp): void {
  assert.ok(r.status !== 0 && r.status !== null, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

describe('qkv viz on a GPT (qkv train lm)', () => {
  const lm = join(base, 'lm');
  let viz: Running;
  before(async () => {
    writeFileSync(join(base, 'text.txt'), syntheticText(3000, 7));
    const t = run('train', 'lm', '--data', join(base, 'text.txt'), '--out', lm, '--max-iters', '4', '--eval-interval', '4', '--eval-iters', '2',
      '--n-layer', '2', '--n-head', '2', '--n-embd', '16', '--block-size', '32', '--batch-size', '4');
    assert.equal(t.status, 0, t.stderr);
    viz = await startViz(['--model', lm]);
  });
  after(async () => { if (viz) await stop(viz); });

  test('--export: the prompt\'s causal attention and 8 generation steps by default, equal to the library\'s', () => {
    const out = join(base, 'lm.html');
    const r = run('viz', '--model', lm, '--export', out);
    assert.equal(r.status, 0, r.stderr);
    const [x] = exported(out);
    // the default prompt is the training text's first words, as `qkv train lm` recorded them
    assert.equal(x!.input, syntheticText(3000, 7).slice(0, 12));
    const want = libraryDecoderInspection(lm, 'lm', x!.input);
    assert.equal(want.generation!.steps.length, 8);
    assertClose(x!.result, want, 'lm');
    const three = run('viz', '--model', lm, '--export', out, '--input', 'the c', '--max-new-tokens', '3', '--temperature', '1', '--seed', '4');
    assert.equal(three.status, 0, three.stderr);
    assertClose(exported(out)[0]!.result, libraryDecoderInspection(lm, 'lm', 'the c', { maxNewTokens: 3, temperature: 1, seed: 4 }), 'sampled');
  });

  test('bad prompts and flags: one line naming the input, no page written', () => {
    const out = join(base, 'bad.html');
    oneLine(run('viz', '--model', lm, '--export', out, '--input', ''), /^qkv: --input "": the prompt is empty/);
    oneLine(run('viz', '--model', lm, '--export', out, '--input', 'the c§t'), /^qkv: --input "the c§t": lm: the prompt has the character "§" \(U\+00A7\) at position 5 \(line 1, column 6\)/);
    oneLine(run('viz', '--model', lm, '--export', out, '--input', 'the', '--max-new-tokens', '31'), /the model's block size is 32: at most 30 new tokens/);
    const zero = run('viz', '--model', lm, '--export', out, '--max-new-tokens', '0'); // commander's own message, with its usage hint
    assert.notEqual(zero.status, 0);
    assert.match(zero.stderr, /--max-new-tokens must be an integer from 1 to 4096/);
    assert.ok(!existsSync(out));
  });

  test('the server: the model, the page\'s new-token count, bad prompts as 400 with the reason', async () => {
    const get = async (path: string) => { const r = await fetch(new URL(path, viz.url)); return { status: r.status, body: await r.json() as Record<string, unknown> }; };
    const m = await get('/api/model');
    assert.equal((m.body.model as { task: string }).task, 'lm');
    assert.equal(m.body.newTokens, 8);
    const r = await get(`/api/inspect?input=${encodeURIComponent('a dog')}&tokens=3`);
    assert.equal(r.status, 200);
    assertClose(r.body.result, libraryDecoderInspection(lm, 'lm', 'a dog', { maxNewTokens: 3 }), 'served');
    for (const [query, error] of [['input=', /^the prompt is empty/], [`input=${encodeURIComponent('a d§g')}`, /"§" \(U\+00A7\) at position 3/], ['input=a&tokens=x', /new tokens must be an integer/], ['input=a&tokens=0', /new tokens must be an integer >= 1/]] as const) {
      const bad = await get(`/api/inspect?${query}`);
      assert.equal(bad.status, 400, query);
      assert.match(bad.body.error as string, error);
    }
  });
});

describe('qkv viz on a seq2seq model (qkv train seq2seq)', () => {
  test('--export: encoder, decoder and cross-attention (target x source) of the greedy output, equal to the library\'s', () => {
    const dir = join(base, 's2s');
    const t = run('train', 'seq2seq', '--builtin', 'reverse', '--n', '60', '--out', dir, '--max-steps', '3', '--eval-every', '3', '--d-model', '16', '--heads', '2', '--layers', '2');
    assert.equal(t.status, 0, t.stderr);
    const out = join(base, 's2s.html');
    const r = run('viz', '--model', dir, '--export', out, '--input', 'abcd');
    assert.equal(r.status, 0, r.stderr);
    const x = exported(out)[0]!.result;
    assertClose(x, libraryDecoderInspection(dir, 'seq2seq', { source: [...'abcd'] }), 'seq2seq');
    assert.deepEqual(x.parts!.map((p) => p.name), ['decoder self-attention', 'cross-attention']);
    const cross = x.parts![1]!;
    assert.deepEqual(cross.keys, [...'abcd']);
    for (const l of cross.layers) for (const h of l.heads) {
      assert.equal(h.alphaPrime!.length, cross.tokens.length);
      for (const row of h.alphaPrime!) {
        assert.equal(row.length, 4);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      }
    }
    // the default input is one example of the built-in set; sampling flags do not apply
    assert.equal(run('viz', '--model', dir, '--export', out).status, 0);
    oneLine(run('viz', '--model', dir, '--export', join(base, 'no.html'), '--temperature', '1'), /--temperature and --seed apply to lm models/);
    oneLine(run('viz', '--model', dir, '--export', join(base, 'no.html'), '--input', ' '), /the input is empty/);
  });
});
