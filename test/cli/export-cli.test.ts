// `qkv export` end to end: ONNX graphs of a trained lm / tagger / seq2seq run in ONNX Runtime
// (greedy generation by examples/onnx-generate.mjs equals `qkv generate --temperature 0`),
// metadata without qkv, the PyTorch hand-off checked by scripts/torch_handoff.py under
// /usr/bin/python3 (skipped, with the reason, without torch), and one-line errors that write nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelProto } from '../../src/io/onnx/schema.js';
import { syntheticText } from '../tasks/lm-text.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-export-cli-'));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
const text = syntheticText(3000, 3);
writeFileSync(join(dir, 'small.txt'), text);
const lm = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '32', '--batch-size', '4', '--eval-iters', '2', '--max-iters', '6', '--eval-interval', '3'];

function metadata(path: string): Record<string, string> {
  const m = modelProto().decode(readFileSync(path)) as unknown as { metadata_props: { key: string; value: string }[] };
  return Object.fromEntries(m.metadata_props.map((e) => [e.key, e.value]));
}

const torchReason = (() => {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? null : `/usr/bin/python3 cannot import torch (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch`;
})();
if (torchReason) console.log(`# skipping the PyTorch hand-off checks: ${torchReason}`);

test('qkv export lm: forward and decoder graphs; greedy generation in ONNX Runtime equals qkv generate', () => {
  ok(run(['train', 'lm', '--data', 'small.txt', '--out', 'lm', ...lm]), 'train');
  const r = run(['export', '--model', 'lm', '--onnx', 'gpt.onnx']);
  ok(r, 'export');
  assert.match(r.stdout, /gpt\.onnx .*forward/);
  assert.match(r.stdout, /gpt\.decoder\.onnx .*KV cache/);
  const meta = metadata(join(dir, 'gpt.decoder.onnx'));
  assert.equal(meta.task, 'lm');
  assert.equal(JSON.parse(meta.vocab!).kind, 'chars');
  const prompt = text.slice(0, 5);
  const qkv = run(['generate', '--model', 'lm', '--prompt', prompt, '--max-new-tokens', '20', '--temperature', '0']);
  ok(qkv, 'generate');
  const onnx = spawnSync(process.execPath, [join(root, 'examples', 'onnx-generate.mjs'), join(dir, 'gpt.decoder.onnx'), '--prompt', prompt, '--max-new-tokens', '20'],
    { encoding: 'utf8', cwd: root });
  ok(onnx, 'examples/onnx-generate.mjs');
  assert.equal(onnx.stdout, qkv.stdout);
});

test('qkv export tag: ONNX Runtime runs it from its metadata alone (labels, vocabulary, task)', async () => {
  writeFileSync(join(dir, 'tags.conll'), 'I PRON\nsaw VERB\na DET\nsaw NOUN\n\nthe DET\ncan NOUN\n\n');
  ok(run(['train', 'tag', '--train', 'tags.conll', '--out', 'tag', '--max-steps', '4', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2']), 'train tag');
  const r = run(['export', '--model', 'tag', '--onnx', 'tag.onnx', '--opset', '23']);
  ok(r, 'export');
  assert.match(r.stdout, /^ {2}RoPE: rotate-half with cos\/sin tables as primitive ops$/m, 'the export says what went in as primitive ops');
  assert.match(r.stdout, /^ {2}softmax attention: the standard Attention operator \(opset 23\)$/m);
  const meta = metadata(join(dir, 'tag.onnx'));
  assert.equal(meta.task, 'tag');
  const labels = JSON.parse(meta.labels!).labels as string[];
  assert.ok(labels.length >= 2 && labels.every((l) => ['PRON', 'VERB', 'DET', 'NOUN'].includes(l)), `labels ${labels.join(' ')}`);
  const words = JSON.parse(meta.featurizer!).words;
  assert.ok(words, 'the word vocabulary is in the metadata');
  const session = await ort.InferenceSession.create(join(dir, 'tag.onnx'));
  const i64 = (a: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
  const out = await session.run({ ids: i64([1, 2, 1], [1, 3]), chars: i64([0, 0, 1, 2], [2, 2]), word_index: i64([1, 1, 1], [1, 3]), key_padding_mask: i64([0, 0, 0], [1, 3]) });
  assert.deepEqual(out.logits!.dims, [1, 3, labels.length]);
});

test('qkv export --torch: nanoGPT GPT and nn.Transformer in PyTorch give qkv\'s logits', { skip: torchReason ?? false }, () => {
  ok(run(['export', '--model', 'lm', '--torch', 'torch-lm', '--onnx', 'again.onnx']), 'export --torch');
  const ids = [[1, 2, 3, 4], [4, 3, 2, 1]];
  const py = spawnSync('/usr/bin/python3', [join(root, 'scripts', 'torch_handoff.py'), join(dir, 'torch-lm'), '--logits', JSON.stringify(ids)], { encoding: 'utf8' });
  ok(py, 'torch_handoff.py');
  const torch = JSON.parse(py.stdout) as { shape: number[]; logits: number[] };
  return (async () => {
    const session = await ort.InferenceSession.create(join(dir, 'again.onnx'));
    const out = await session.run({ idx: new ort.Tensor('int64', BigInt64Array.from(ids.flat().map(BigInt)), [2, 4]) });
    assert.deepEqual(torch.shape, [...out.logits!.dims]);
    const a = out.logits!.data as Float32Array;
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - torch.logits[i]!) < 1e-4, `logit ${i}: ${a[i]} vs ${torch.logits[i]}`);
    // continued training runs (a few steps) and writes nanoGPT's ckpt.pt
    const tr = spawnSync('/usr/bin/python3', [join(root, 'scripts', 'torch_handoff.py'), join(dir, 'torch-lm'), '--train', join(dir, 'small.txt'), '--steps', '3', '--batch-size', '2', '--out', join(dir, 'ckpt.pt')], { encoding: 'utf8' });
    ok(tr, 'torch_handoff.py --train');
    assert.ok(existsSync(join(dir, 'ckpt.pt')));
  })();
});

test('qkv export seq2seq: encoder + decoder graphs, and nn.Transformer in PyTorch', { skip: false }, async () => {
  writeFileSync(join(dir, 'pairs.tsv'), 'abc\tcba\nabd\tdba\nbcd\tdcb\ncab\tbac\n');
  ok(run(['train', 'seq2seq', '--train', 'pairs.tsv', '--out', 's2s', '--max-steps', '4', '--eval-every', '2', '--d-model', '16', '--heads', '2', '--layers', '1']), 'train seq2seq');
  const r = run(['export', '--model', 's2s', '--onnx', 's2s.onnx', '--torch', 'torch-s2s']);
  ok(r, 'export');
  assert.ok(existsSync(join(dir, 's2s.decoder.onnx')));
  if (torchReason) return;
  const src = [[4, 5, 6]];
  const tgt = [[1, 5]];
  const py = spawnSync('/usr/bin/python3', [join(root, 'scripts', 'torch_handoff.py'), join(dir, 'torch-s2s'), '--logits', JSON.stringify({ src, tgt })], { encoding: 'utf8' });
  ok(py, 'torch_handoff.py seq2seq');
  const torch = JSON.parse(py.stdout) as { logits: number[] };
  const i64 = (a: number[][]) => new ort.Tensor('int64', BigInt64Array.from(a.flat().map(BigInt)), [a.length, a[0]!.length]);
  const enc = await ort.InferenceSession.create(join(dir, 's2s.onnx'));
  const dec = await ort.InferenceSession.create(join(dir, 's2s.decoder.onnx'));
  const pad = i64([[0, 0, 0]]);
  const { memory } = await enc.run({ src: i64(src), src_key_padding_mask: pad });
  const feed: Record<string, ort.Tensor> = { tgt: i64(tgt), memory: memory!, src_key_padding_mask: pad };
  for (const name of dec.inputNames.filter((n) => n.startsWith('past_'))) feed[name] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
  const out = await dec.run(feed);
  const a = out.logits!.data as Float32Array;
  assert.equal(a.length, torch.logits.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - torch.logits[i]!) < 1e-4, `logit ${i}: ${a[i]} vs ${torch.logits[i]}`);
});

test('qkv export: one-line errors, and no file left behind', () => {
  ok(run(['train', 'tag', '--train', 'tags.conll', '--out', 'rnn', '--model', 'rnn', '--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1']), 'train rnn');
  ok(run(['export', '--model', 'rnn', '--onnx', 'rnn.onnx']), 'the RNN baseline exports (ONNX LSTM)');
  const before = readdirSync(dir).sort();
  failsWith(run(['export', '--model', 'tag', '--torch', 'torch-tag']), /^qkv: --torch: a tag model has no PyTorch hand-off/);
  failsWith(run(['export', '--model', 'tag', '--onnx', join(dir, 'no', 'such', 'dir', 'x.onnx')]), /x\.onnx: cannot create a temporary file for x\.onnx: no such file or directory/);
  mkdirSync(join(dir, 'locked'));
  chmodSync(join(dir, 'locked'), 0o500);
  if (process.getuid?.() !== 0) failsWith(run(['export', '--model', 'tag', '--onnx', join(dir, 'locked', 'x.onnx')]), /permission denied/);
  failsWith(run(['export', '--model', 'tag']), /needs --onnx FILE and\/or --torch DIR/);
  failsWith(run(['export', '--model', 'tag', '--onnx', 'x.onnx', '--opset', '18']), /--opset/);
  assert.deepEqual(readdirSync(dir).filter((f) => f !== 'locked').sort(), before, 'no file written, no temporary file left');
  assert.deepEqual(readdirSync(join(dir, 'locked')), []);
});
