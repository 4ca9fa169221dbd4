// `qkv train ... --viz` with the model on webgpu (SwiftShader where there is no GPU): the
// attention is recorded on the host backend from the checkpoint each evaluation writes, one
// line says so, and the records equal the library's inspection of those checkpoints and a
// native run's records (the same seed: the weights agree to float rounding). Training with
// --viz gives the same losses and weights as without. Sizes are tiny: SwiftShader is a CPU.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nativeAvailable, type WatchRecord } from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';
import { webgpuSkip } from '../webgpu-setup.js';
import { bin, libraryDecoderInspection } from './viz-helpers.js';

const base = mkdtempSync(join(tmpdir(), 'qkv-webgpu-viz-watch-'));
after(() => rmSync(base, { recursive: true, force: true }));
const skip = webgpuSkip || (nativeAvailable() ? false : 'the native addon is not built here');

function qkv(backend: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--backend', backend, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `qkv --backend ${backend} ${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const records = (out: string): WatchRecord[] => readFileSync(join(out, 'attention.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WatchRecord);
const losses = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { loss?: number })
  .filter((e) => e.loss !== undefined).map((e) => e.loss);

/** The largest difference between two nested arrays of numbers of the same shape (null where both are null). */
function largest(a: unknown, b: unknown, where: string): number {
  if (typeof b === 'number') {
    assert.equal(typeof a, 'number', where);
    return Math.abs((a as number) - b);
  }
  if (b === null) return (assert.equal(a, null, where), 0);
  assert.ok(Array.isArray(a) && Array.isArray(b) && a.length === b.length, `${where}: shape`);
  return (b as unknown[]).reduce<number>((m, x, i) => Math.max(m, largest((a as unknown[])[i], x, `${where}[${i}]`)), 0);
}

test('train lm --viz on webgpu: records made on the host from each evaluation\'s checkpoint, equal to the library\'s and to native\'s', { skip }, (t) => {
  const text = join(base, 'text.txt');
  writeFileSync(text, syntheticText(3000, 7));
  const args = (out: string) => ['train', 'lm', '--data', text, '--out', join(base, out), '--max-iters', '4', '--eval-interval', '2', '--eval-iters', '2',
    '--n-layer', '2', '--n-head', '2', '--n-embd', '16', '--block-size', '32', '--batch-size', '4', '--dropout', '0', '--seed', '3'];
  const gpu = qkv('webgpu', [...args('gpu'), '--viz']);
  assert.match(gpu.stderr, /qkv: --viz: the attention is recorded on the native backend, from the checkpoint each evaluation writes .*; the model trains on webgpu/);
  qkv('webgpu', args('gpu-plain'));
  qkv('native', [...args('cpu'), '--viz']);
  // watching changes nothing in training
  assert.deepEqual(losses(join(base, 'gpu')), losses(join(base, 'gpu-plain')));
  assert.ok(readFileSync(join(base, 'gpu', 'last', 'model.safetensors')).equals(readFileSync(join(base, 'gpu-plain', 'last', 'model.safetensors'))));

  const [rg, rc] = [records(join(base, 'gpu')), records(join(base, 'cpu'))];
  assert.deepEqual(rg.map((r) => r.step), [2, 4], 'one record per evaluation');
  assert.deepEqual(rg.map((r) => [r.step, r.part, r.tokens, r.blocked]), rc.map((r) => [r.step, r.part, r.tokens, r.blocked]));
  // the last record is the inspection of the last checkpoint (on the host, as the watcher made it)
  const prompt = rg[1]!.tokens.join('');
  const last = libraryDecoderInspection(join(base, 'gpu', 'last'), 'lm', prompt, { maxNewTokens: 0 });
  assert.ok(largest(rg[1]!.alphaPrime, last.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'library') <= 1e-6);
  let worst = 0;
  rg.forEach((r, i) => { worst = Math.max(worst, largest(r.alphaPrime, rc[i]!.alphaPrime, `step ${r.step}`)); });
  assert.ok(worst <= 1e-4, `α′ of the webgpu run vs the native run: ${worst}`);
  t.diagnostic(`α′ webgpu-trained vs native-trained, largest difference ${worst.toExponential(2)}`);
});

test('train tag --viz on webgpu (dropout on): trains as without --viz; the encoder\'s self-attention at every evaluation, as native records it', { skip }, (t) => {
  const args = (out: string) => ['train', 'tag', '--builtin', 'ambiguity', '--n', '80', '--d-model', '16', '--layers', '1', '--heads', '2', '--max-steps', '6',
    '--eval-every', '3', '--seed', '1', '--out', join(base, out), '--viz', 'I saw a saw'];
  qkv('webgpu', args('tag-gpu'));
  qkv('webgpu', args('tag-gpu-plain').slice(0, -2));
  qkv('native', args('tag-cpu'));
  // dropout is on: the host copy made at each evaluation draws no number from training's stream
  assert.deepEqual(losses(join(base, 'tag-gpu')), losses(join(base, 'tag-gpu-plain')));
  const [rg, rc] = [records(join(base, 'tag-gpu')), records(join(base, 'tag-cpu'))];
  assert.deepEqual(rg.map((r) => [r.step, r.tokens]), [[3, ['I', 'saw', 'a', 'saw']], [6, ['I', 'saw', 'a', 'saw']]]);
  // each record carries its evaluation's metrics (webgpu's equal native's to 1e-6, as the commands test finds)
  rg.forEach((r, i) => assert.ok(largest(Object.values(r.metrics), Object.values(rc[i]!.metrics), `metrics at step ${r.step}`) <= 1e-6));
  let worst = 0;
  rg.forEach((r, i) => { worst = Math.max(worst, largest(r.alphaPrime, rc[i]!.alphaPrime, `step ${r.step}`)); });
  assert.ok(worst <= 1e-4, `α′ of the webgpu run vs the native run: ${worst}`);
  t.diagnostic(`α′ webgpu-trained vs native-trained, largest difference ${worst.toExponential(2)}`);
});
