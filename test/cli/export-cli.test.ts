// `qkv export` end to end: ONNX graphs of a trained lm / tagger / seq2seq run in ONNX Runtime
// (greedy generation by examples/onnx-generate.mjs equals `qkv generate --temperature 0`),
// metadata without qkv, the PyTorch hand-off checked by scripts/torch_handoff.py under
// /usr/bin/python3 (skipped, with the reason, without torch), image classifiers (patches and CNN)
// fed by following their metadata's preprocessing with pngjs alone, and one-line errors that write nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { classifyDriver, data, encodePng, Generator, imageFile, loadInstance, noGrad, tensor, tidy } from '../../src/index.js';
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
  // past the block size (32): both crop the context to the last 32 tokens, so the texts still agree
  const long = ['--prompt', prompt, '--max-new-tokens', '70'];
  const qkvLong = run(['generate', '--model', 'lm', ...long, '--temperature', '0']);
  ok(qkvLong, 'generate past the block size');
  const onnxLong = spawnSync(process.execPath, [join(root, 'examples', 'onnx-generate.mjs'), join(dir, 'gpt.decoder.onnx'), ...long], { encoding: 'utf8', cwd: root });
  ok(onnxLong, 'examples/onnx-generate.mjs past the block size');
  assert.equal(onnxLong.stdout, qkvLong.stdout);
  assert.equal([...onnxLong.stdout].length, prompt.length + 70 + 1);
  const bad = spawnSync(process.execPath, [join(root, 'examples', 'onnx-generate.mjs'), join(dir, 'gpt.decoder.onnx'), '--max-new-tokens', 'lots'], { encoding: 'utf8', cwd: root });
  failsWith(bad, /^--max-new-tokens: expected an integer >= 0, got "lots"$/);
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

test('qkv export classify on images (patches, CNN): following the metadata\'s preprocessing, ONNX Runtime gives qkv\'s logits and labels', async () => {
  const g = new Generator(11);
  const pngs = ['disk', 'cross', 'plus'].map((shape, i) => {
    const f = join(dir, `shape-${i}.png`);
    writeFileSync(f, encodePng(data.drawShape(shape, g)));
    return f;
  });
  for (const [model, opset] of [['transformer', '23'], ['cnn', '17']] as const) {
    ok(run(['train', 'classify', '--builtin', 'shapes', '--n', '40', '--model', model, '--max-steps', '2', '--eval-every', '2', '--d-model', '16', '--layers', '1', '--heads', '2', '--out', `img-${model}`]), `train ${model}`);
    const r = run(['export', '--model', `img-${model}`, '--onnx', `img-${model}.onnx`, '--opset', opset]);
    ok(r, `export ${model}`);
    assert.match(r.stdout, /img-\w+\.onnx {2}classify: images \(1×16×16\) -> logits/);
    const meta = metadata(join(dir, `img-${model}.onnx`));
    assert.equal(meta.task, 'classify');
    const labels = JSON.parse(meta.labels!).labels as string[];
    assert.deepEqual([...labels].sort(), [...data.SHAPE_CLASSES].sort());
    assert.equal(meta.preprocessing, '1. decode to RGB(A) values in [0, 1] (8-bit / 255, 16-bit / 65535); 2. multiply by alpha (composite on black) and drop it; '
      + '3. gray: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 luma); a gray image is R = G = B; 4. images must be 16×16 (height×width); no resizing; '
      + '5. per channel x = (x - mean) / std with mean [0.5], std [0.5]; 6. float32 (batch, 1, 16, 16): channels first, rows top to bottom');
    // the recipe by hand, with mean and std from the metadata's front end
    const fe = JSON.parse(meta.featurizer!).frontEnd as { mean: number[]; std: number[] };
    const images = Float32Array.from(pngs.flatMap((f) => {
      const png = PNG.sync.read(readFileSync(f));
      return Array.from({ length: png.width * png.height }, (_, i) => {
        const [R, G, B, A] = [0, 1, 2, 3].map((c) => png.data[4 * i + c]! / 255) as [number, number, number, number];
        return ((0.299 * R + 0.587 * G + 0.114 * B) * A - fe.mean[0]!) / fe.std[0]!;
      });
    }));
    const session = await ort.InferenceSession.create(join(dir, `img-${model}.onnx`));
    const out = await session.run({ images: new ort.Tensor('float32', images, [pngs.length, 1, 16, 16]) });
    assert.deepEqual(out.logits!.dims, [pngs.length, labels.length]);
    const onnx = out.logits!.data as Float32Array;
    // qkv on the same files: its own front end and the checkpoint
    const { instance } = loadInstance(classifyDriver, join(dir, `img-${model}`));
    const fed = pngs.map((f) => imageFile(f, instance.featurizer.frontEnd as data.ImageFrontEnd).data);
    const expected = tidy(() => noGrad(() => instance.model.forward({
      images: tensor(Float32Array.from(fed.flatMap((x) => [...x])), { shape: [pngs.length, 1, 16, 16] }), keyPaddingMask: tensor(new Int32Array(pngs.length), { shape: [pngs.length, 1], dtype: 'int32' }),
    }).toTypedArray()));
    for (let i = 0; i < onnx.length; i++) assert.ok(Math.abs(onnx[i]! - expected[i]!) < 1e-4, `${model} logit ${i}: ${onnx[i]} vs ${expected[i]}`);
    pngs.forEach((f, b) => {
      const p = run(['predict', '--model', `img-${model}`, '--input', f, '--json']);
      ok(p, 'predict');
      const row = Array.from(onnx.subarray(b * labels.length, (b + 1) * labels.length));
      assert.equal(labels[row.indexOf(Math.max(...row))], JSON.parse(p.stdout).label, `${model} ${f}`);
    });
  }
  failsWith(run(['export', '--model', 'img-cnn', '--onnx', 'img-graph.onnx', '--graph-input']), /^qkv: ImageClassifier: a graph mask \(--graph-input\) is for sequences of nodes, not images$/);
  assert.ok(!existsSync(join(dir, 'img-graph.onnx')));
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
