// `qkv train lm --backend webgpu` end to end (SwiftShader where there is no GPU): the run trains,
// evaluates (the losses read asynchronously), writes its checkpoints (the weights read back to
// the host first), resumes, and its validation losses are the native backend's within 1e-3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../src/index.js';
import { webgpuSkip } from '../webgpu-setup.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-webgpu-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const text = Array.from({ length: 300 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} saw a ${['saw', 'cat', 'dog'][(i * 7) % 3]}. `).join('');
const data = join(dir, 'text.txt');
writeFileSync(data, text);

const train = (backend: string, out: string, steps: number, ...extra: string[]) => spawnSync(process.execPath, [bin, '--backend', backend, 'train', 'lm',
  '--data', data, '--out', out, '--max-iters', String(steps), '--block-size', '16', '--batch-size', '4', '--n-layer', '1', '--n-head', '2',
  '--n-embd', '16', '--eval-interval', '10', '--eval-iters', '2', '--seed', '3', ...extra], { encoding: 'utf8' });

const valLosses = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((e) => e.type === 'eval').map((e) => e.metrics.valLoss as number);

test('qkv train lm --backend webgpu: trains, evaluates, checkpoints, resumes; native\'s losses within 1e-3', {
  skip: webgpuSkip || (nativeAvailable() ? false : 'the native addon is not built here'),
}, (t) => {
  const gpu = join(dir, 'gpu');
  let r = train('webgpu', gpu, 20);
  assert.equal(r.status, 0, r.stderr);
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'trainer.json', 'COMPLETE']) assert.ok(existsSync(join(gpu, 'last', f)), f);
  assert.ok(existsSync(join(gpu, 'best', 'model.safetensors')));
  r = train('webgpu', gpu, 30, '--resume');
  assert.equal(r.status, 0, r.stderr);
  const cpu = join(dir, 'cpu');
  r = train('native', cpu, 20);
  assert.equal(r.status, 0, r.stderr);
  r = train('native', cpu, 30, '--resume');
  assert.equal(r.status, 0, r.stderr);
  const [g, c] = [valLosses(gpu), valLosses(cpu)];
  assert.equal(g.length, 3);
  assert.equal(c.length, 3);
  const worst = Math.max(...g.map((x, i) => Math.abs(x - c[i]!)));
  t.diagnostic(`validation losses webgpu ${g.map((x) => x.toFixed(5)).join(' ')}, native ${c.map((x) => x.toFixed(5)).join(' ')}`);
  assert.ok(worst <= 1e-3, `largest difference ${worst}`);
});
