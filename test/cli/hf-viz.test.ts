// `qkv viz --model HF_DIR --export FILE` on the tiny Hugging Face fixtures, values read back from
// the page's embedded data: GPT-2's and ViT's alpha' equal the attention maps transformers wrote
// (golden.safetensors), Whisper's encoder rows equal transformers' on the positions the audio
// covers, BERT's equal qkv's own output attentions (golden-tested in test/nn/hf); in every layer and
// head softmax(alpha) = alpha' (where the weights are over all keys shown) and b = alpha'·v.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { encodePng, fromPretrained, hf, noGrad, tensor, type LayerInspection, type ModelInspection, type Tensor, type WordPieceTokenizer } from '../../src/index.js';
import { goldenJson, goldenTensors, hfDir } from '../nn/hf/golden.js';
import { ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-viz-'));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

function exported(model: string, input: string, extra: string[] = []): ModelInspection {
  const file = join(dir, `${model.replace(/\W/g, '')}.html`);
  ok(run(['viz', '--model', hfDir(model), '--export', file, '--input', input, ...extra]), `viz ${model}`);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'self-contained');
  return (JSON.parse(/<script type="application\/json" id="qkv-data">(.*?)<\/script>/s.exec(html)![1]!) as { inspections: { result: ModelInspection }[] }).inspections[0]!.result;
}

/** max |page - expected| over alpha' of every layer and head; expected (1 or more, H, T, S), batch row `row`, cut to the page's size. */
function alphaPrimeDiff(layers: LayerInspection[], expected: Tensor[], row = 0): number {
  let worst = 0;
  layers.forEach((l, li) => {
    const e = expected[li]!.toArray() as number[][][][];
    l.heads.forEach((h, hi) => h.alphaPrime!.forEach((r, i) => r.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - e[row]![hi]![i]![j]!)); })));
  });
  return worst;
}

/** softmax(alpha) = alpha' (causal: over the unblocked keys) and b = alpha'·v, in every layer and head. */
function consistent(layers: LayerInspection[], what: string): void {
  for (const [li, l] of layers.entries()) {
    for (const [hi, h] of l.heads.entries()) {
      h.alpha!.forEach((row, i) => {
        const open = row.map((x) => (x === null ? -Infinity : x));
        const mx = Math.max(...open);
        const e = open.map((x) => Math.exp(x - mx));
        const sum = e.reduce((s, x) => s + x, 0);
        e.forEach((x, j) => assert.ok(Math.abs(x / sum - h.alphaPrime![i]![j]!) < 1e-5, `${what} layer ${li} head ${hi}: softmax(alpha)[${i}][${j}]`));
        h.b[i]!.forEach((bx, d) => {
          const want = h.alphaPrime![i]!.reduce((s, a, j) => s + a * h.v[j]![d]!, 0);
          assert.ok(Math.abs(bx - want) < 1e-5, `${what} layer ${li} head ${hi}: b[${i}][${d}]`);
        });
      });
    }
  }
}

test('viz --model GPT-2 --export: alpha\' of each layer and head equals transformers\' attentions; causal, consistent', () => {
  const ids = goldenJson<{ input_ids: number[][] }>('gpt2').input_ids[0]!;
  const p = fromPretrained(hfDir('gpt2'));
  const text = (p.tokenizer as { decode(ids: number[]): string }).decode(ids);
  assert.deepEqual(Array.from((p.tokenizer as { encode(t: string): ArrayLike<number> }).encode(text)), ids, 'the golden ids are a text\'s encoding');
  p.model.dispose();
  const r = exported('gpt2', text, ['--max-new-tokens', '3']);
  assert.equal(r.task, 'lm');
  assert.equal(r.model.kind, 'GPT2LMHeadModel');
  assert.equal(r.tokens.length, ids.length);
  assert.equal(r.layers.length, 2);
  assert.equal(r.layers[0]!.heads.length, 4);
  assert.equal(r.layers[0]!.heads[0]!.alpha![0]![1], null, 'the future is blocked');
  const gold = goldenTensors('gpt2');
  const d = alphaPrimeDiff(r.layers, [gold.get('attentions.0')!, gold.get('attentions.1')!]);
  console.log(`# GPT-2 viz alpha' vs transformers: ${d.toExponential(2)}`);
  assert.ok(d < 1e-4, `${d}`);
  consistent(r.layers, 'GPT-2');
});

test('viz --model BERT (token and sequence classification): WordPiece tokens, alpha\' equal to the model\'s attentions, consistent', () => {
  for (const name of ['bert-token', 'bert-seq']) {
    const r = exported(name, 'I saw a saw.\tThe saw was sharp.');
    const p = fromPretrained(hfDir(name));
    const enc = (p.tokenizer as WordPieceTokenizer).encode('I saw a saw.', 'The saw was sharp.');
    assert.deepEqual(r.tokens, enc.tokens);
    const m = p.model as hf.BertForSequenceClassification;
    const att = noGrad(() => m.forward({ inputIds: tensor([enc.ids], { dtype: 'int32' }), tokenTypeIds: tensor([enc.typeIds], { dtype: 'int32' }), outputAttentions: true }).attentions!);
    assert.ok(alphaPrimeDiff(r.layers, att) < 1e-6, name);
    consistent(r.layers, name);
    assert.equal(r.task, name === 'bert-token' ? 'tag' : 'classify');
    if (name === 'bert-token') assert.equal((r.prediction as string[]).length, enc.ids.length, 'a label per WordPiece');
    else assert.ok(m.config.labels.includes(r.prediction as string));
    p.model.dispose();
  }
});

test('viz --model ViT on a PNG at the processor\'s size: [CLS] + 16 patches, alpha\' equal to transformers\' attentions', () => {
  const g = goldenJson<{ images: number[][] | number[][][][] }>('vit');
  const flat = (g.images[0] as unknown as unknown[]).flat(3) as number[];
  writeFileSync(join(dir, 'img.png'), encodePng({ width: 16, height: 16, channels: 3, data: Float32Array.from(flat, (x) => x / 255) }));
  const r = exported('vit', 'img.png');
  assert.equal(r.tokens.length, 17);
  assert.equal(r.tokens[0], '[CLS]');
  const gold = goldenTensors('vit');
  const d = alphaPrimeDiff(r.layers, [gold.get('attentions.0')!, gold.get('attentions.1')!]);
  console.log(`# ViT viz alpha' vs transformers: ${d.toExponential(2)}`);
  assert.ok(d < 1e-4, `${d}`);
  consistent(r.layers, 'ViT');
});

test('viz --model Whisper on a WAV: encoder rows over the audio\'s positions equal transformers\', decoder self- and cross-attention parts', () => {
  copyFileSync(join(hfDir('whisper'), 'speech.wav'), join(dir, 'speech.wav'));
  const r = exported('whisper', 'speech.wav', ['--max-new-tokens', '3']);
  assert.equal(r.task, 'seq2seq');
  assert.equal(r.tokens.length, 25, '0.5 s = 8000 samples / hop 160 / stride 2');
  const gold = goldenTensors('whisper'); // encoder_attentions sliced [:, :, :8, :64] by the fixture
  let worst = 0;
  r.layers.forEach((l, li) => {
    const e = gold.get(`encoder_attentions.${li}`)!.toArray() as number[][][][];
    l.heads.forEach((h, hi) => { for (let i = 0; i < 8; i++) for (let j = 0; j < 25; j++) worst = Math.max(worst, Math.abs(h.alphaPrime![i]![j]! - e[0]![hi]![i]![j]!)); });
  });
  console.log(`# Whisper viz encoder alpha' vs transformers: ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `${worst}`);
  const [self, cross] = r.parts!;
  assert.equal(self!.name, 'decoder self-attention');
  assert.equal(self!.tokens.length, 4 + 3, 'the forced prefix and 3 new tokens');
  consistent(self!.layers, 'Whisper decoder');
  assert.equal(cross!.keys!.length, 25);
  assert.equal(cross!.layers[0]!.heads[0]!.alphaPrime![0]!.length, 25);
});
