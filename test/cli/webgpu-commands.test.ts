// Every command on --backend webgpu end to end (SwiftShader where there is no GPU), against the
// native backend on the same runs: `qkv train tag|classify|seq2seq` (their evaluations read
// predictions asynchronously), `qkv eval`, `qkv predict` (greedy and beam), `qkv generate`
// and `qkv viz --export`. Sizes are tiny: SwiftShader emulates the GPU on the CPU.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../src/index.js';
import { webgpuSkip } from '../webgpu-setup.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-webgpu-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = webgpuSkip || (nativeAvailable() ? false : 'the native addon is not built here');

function qkv(backend: string, args: string[], input?: string): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--backend', backend, ...args], { encoding: 'utf8', input });
  assert.equal(r.status, 0, `qkv --backend ${backend} ${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const evals = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .filter((e) => e.type === 'eval').map((e) => e.metrics as Record<string, number>);

/** Every metric of every evaluation within `tol` (counts and exact ratios are equal). */
function sameMetrics(gpu: Record<string, number>[], cpu: Record<string, number>[], tol: number): number {
  assert.equal(gpu.length, cpu.length);
  let worst = 0;
  gpu.forEach((g, i) => {
    assert.deepEqual(Object.keys(g).sort(), Object.keys(cpu[i]!).sort());
    for (const k of Object.keys(g)) worst = Math.max(worst, Math.abs(g[k]! - cpu[i]![k]!));
  });
  assert.ok(worst <= tol, `largest metric difference ${worst}`);
  return worst;
}

const SMALL = ['--d-model', '16', '--layers', '1', '--heads', '2', '--max-steps', '6', '--eval-every', '3', '--seed', '1'];

test('train tag on webgpu: the evaluations equal native\'s; eval, predict and viz --export of its model equal native\'s', { skip }, (t) => {
  const [gpu, cpu] = [join(dir, 'tag-gpu'), join(dir, 'tag-cpu')];
  const train = (b: string, out: string) => qkv(b, ['train', 'tag', '--builtin', 'ambiguity', '--n', '80', ...SMALL, '--out', out]);
  train('webgpu', gpu);
  train('native', cpu);
  t.diagnostic(`largest metric difference ${sameMetrics(evals(gpu), evals(cpu), 1e-6)}`);
  const data = join(dir, 'amb.conllu');
  qkv('native', ['data', '--builtin', 'ambiguity', '--n', '12', '--out', data]);
  const ev = (b: string) => JSON.parse(qkv(b, ['eval', '--model', gpu, '--data', data, '--json']).stdout);
  const [eg, ec] = [ev('webgpu'), ev('native')];
  assert.deepEqual(eg.metrics, ec.metrics);
  assert.deepEqual(eg.perTag, ec.perTag);
  const lines = 'I saw a saw\n\nthe dog saw a cat\n';
  assert.equal(qkv('webgpu', ['predict', '--model', gpu], lines).stdout, qkv('native', ['predict', '--model', gpu], lines).stdout);
  const page = (b: string) => {
    const file = join(dir, `tag-${b}.html`);
    const r = qkv(b, ['viz', '--model', gpu, '--export', file, '--input', 'I saw a saw']);
    return { html: readFileSync(file, 'utf8'), stderr: r.stderr };
  };
  const [pg, pc] = [page('webgpu'), page('native')];
  assert.match(pg.stderr, /qkv viz: the inspections run on the native backend .* copied from webgpu once/);
  assert.equal(pg.html, pc.html);
});

test('train classify on webgpu: the evaluations equal native\'s; predict equals native\'s', { skip }, () => {
  const file = join(dir, 'cls.tsv');
  const words = ['good', 'great', 'bad', 'awful', 'the', 'film', 'was'];
  writeFileSync(file, Array.from({ length: 40 }, (_, i) => `the film was ${words[(i * 3) % 4]}\t${(i * 3) % 4 < 2 ? 'pos' : 'neg'}`).join('\n') + '\n');
  const [gpu, cpu] = [join(dir, 'cls-gpu'), join(dir, 'cls-cpu')];
  qkv('webgpu', ['train', 'classify', '--train', file, ...SMALL, '--out', gpu]);
  qkv('native', ['train', 'classify', '--train', file, ...SMALL, '--out', cpu]);
  sameMetrics(evals(gpu), evals(cpu), 1e-6);
  const lines = 'the film was good\nthe film was awful\n';
  assert.equal(qkv('webgpu', ['predict', '--model', gpu, '--json'], lines).stdout, qkv('native', ['predict', '--model', gpu, '--json'], lines).stdout);
});

test('train seq2seq on webgpu: the evaluations (decoding, loss) equal native\'s to 1e-4; greedy and beam predictions equal', { skip }, (t) => {
  const [gpu, cpu] = [join(dir, 's2s-gpu'), join(dir, 's2s-cpu')];
  const train = (b: string, out: string) => qkv(b, ['train', 'seq2seq', '--builtin', 'reverse', '--n', '60', ...SMALL, '--out', out]);
  train('webgpu', gpu);
  train('native', cpu);
  t.diagnostic(`largest metric difference ${sameMetrics(evals(gpu), evals(cpu), 1e-4)}`);
  const lines = 'abc\nbca\n';
  for (const beam of [[], ['--beam', '2']]) {
    assert.equal(qkv('webgpu', ['predict', '--model', gpu, ...beam], lines).stdout, qkv('native', ['predict', '--model', gpu, ...beam], lines).stdout);
  }
});

test('eval and generate of a language model on webgpu: the loss within 1e-4 of native\'s, the same text (cached, uncached, sampled)', { skip }, (t) => {
  const text = join(dir, 'text.txt');
  writeFileSync(text, Array.from({ length: 200 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} saw a ${['saw', 'cat', 'dog'][(i * 7) % 3]}. `).join(''));
  const lm = join(dir, 'lm');
  qkv('native', ['train', 'lm', '--data', text, '--out', lm, '--max-iters', '10', '--block-size', '16', '--batch-size', '4', '--n-layer', '1',
    '--n-head', '2', '--n-embd', '16', '--eval-interval', '10', '--eval-iters', '2', '--seed', '3']);
  const ev = (b: string) => JSON.parse(qkv(b, ['eval', '--model', lm, '--data', text, '--json']).stdout).metrics;
  const [g, c] = [ev('webgpu'), ev('native')];
  t.diagnostic(`loss webgpu ${g.loss}, native ${c.loss}`);
  assert.ok(Math.abs(g.loss - c.loss) <= 1e-4);
  assert.equal(g.tokens, c.tokens);
  for (const flags of [['--temperature', '0'], ['--temperature', '0', '--no-cache'], ['--seed', '2']]) {
    const gen = (b: string) => qkv(b, ['generate', '--model', lm, '--prompt', 'the ', '--max-new-tokens', '24', ...flags]).stdout;
    assert.equal(gen('webgpu'), gen('native'), flags.join(' '));
  }
});

test('a GPU lost mid-run (the QKV_WEBGPU_LOSE_AFTER test hook): one line naming the backend, the latest checkpoint and what to do; --resume on native finishes the run', { skip }, () => {
  const out = join(dir, 'lost');
  const args = ['train', 'tag', '--builtin', 'ambiguity', '--n', '80', ...SMALL, '--out', out];
  // at this size the checkpoint of step 3 is written within 1,000 dispatches and step 6 not reached by 1,400
  const r = spawnSync(process.execPath, [bin, '--backend', 'webgpu', ...args], { encoding: 'utf8', env: { ...process.env, QKV_WEBGPU_LOSE_AFTER: '1200' } });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('qkv:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^qkv: webgpu: the GPU device was lost \(.*\); training stopped: the latest checkpoint is .*last \(step 3\); continue with --resume --backend native \(or wasm\)$/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  qkv('native', [...args, '--resume']);
  assert.equal(evals(out).length, 2);
});

test('qkv demo on webgpu: the same tags and attention heat maps as on native', { skip }, () => {
  // from the comparison line on (the table above it has training times), the total time left out
  const tail = (b: string) => qkv(b, ['demo', '--steps', '3', '--out', join(dir, `demo-${b}`)]).stdout
    .split('\n').filter((l) => !/s in all\./.test(l)).join('\n').replace(/^[\s\S]*?self-attention is/, 'self-attention is').replaceAll(join(dir, `demo-${b}`), 'DIR');
  const [g, c] = [tail('webgpu'), tail('native')];
  assert.match(g, /layer 2, attention weights/);
  assert.equal(g, c);
});
