// Images end to end: the CNN baseline and the patch-attention (ViT-style) classifier both learn
// the built-in shapes set; a folder-per-label tree and a path<TAB>label list of PNG files train
// a model; predict takes an image path with the checkpoint's front end; info describes it;
// corrupt, empty and wrong-size images are one-line errors naming the file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { data, encodePng, Generator } from '../../src/index.js';
import { failsWith, ok } from './expect.js';
import { fixturePath } from '../fixtures.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-image-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, cwd: dir });
const small = ['--d-model', '32', '--layers', '2', '--heads', '4', '--dropout', '0', '--batch-size', '16', '--json'];

test('shapes: the CNN and the patch-attention classifier both learn it (chance 25%)', () => {
  const acc: Record<string, number> = {};
  for (const model of ['cnn', 'transformer']) {
    const r = run(['train', 'classify', '--builtin', 'shapes', '--n', '400', '--model', model, '--max-steps', '100', '--eval-every', '100', ...small, '--out', join(dir, model)]);
    ok(r, `train ${model}`);
    acc[model] = JSON.parse(r.stdout).metrics.accuracy as number;
  }
  // measured: cnn 0.62, transformer 0.72 after 100 steps
  assert.ok(acc.cnn! >= 0.45, `cnn ${acc.cnn}`);
  assert.ok(acc.transformer! >= 0.45, `transformer ${acc.transformer}`);
  const info = run(['info', join(dir, 'transformer')]);
  ok(info, 'info');
  assert.match(info.stdout, /input +image: 16×16 gray \(other sizes refused\), normalised \(x - \[0\.5\]\) \/ \[0\.5\]/);
  assert.match(info.stdout, /"patch":4/);
});

test('image files: a folder per label and a path<TAB>label list; predict; bad images', () => {
  const g = new Generator(5);
  const tree = join(dir, 'tree');
  const lines: string[] = [];
  for (const label of data.SHAPE_CLASSES) {
    mkdirSync(join(tree, label), { recursive: true });
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(tree, label, `${i}.png`), encodePng(data.drawShape(label, g)));
      lines.push(`tree/${label}/${i}.png\t${label}`);
    }
  }
  const r = run(['train', 'classify', '--train', tree, '--model', 'cnn', '--channels', '1', '--max-steps', '4', '--eval-every', '2', ...small, '--out', join(dir, 'from-tree')]);
  ok(r, 'train from a folder tree');
  const p = run(['predict', '--model', join(dir, 'from-tree'), '--input', join(tree, 'disk', '0.png')]);
  ok(p, 'predict png');
  assert.match(p.stdout, /disk\/0\.png\t(plus|cross|square|disk)\n$/);

  // a list, resized to 8×8 RGB, ViT with 4×4 patches
  writeFileSync(join(dir, 'list.tsv'), lines.join('\n') + '\n');
  const l = run(['train', 'classify', '--train', join(dir, 'list.tsv'), '--image-size', '8', '--patch', '4', '--max-steps', '4', '--eval-every', '2', ...small, '--out', join(dir, 'from-list')]);
  ok(l, 'train from a list');
  const ev = run(['eval', '--model', join(dir, 'from-list'), '--data', join(dir, 'list.tsv'), '--json']);
  ok(ev, 'eval');
  assert.equal(JSON.parse(ev.stdout).examples, 24);
  const info = JSON.parse(run(['info', join(dir, 'from-list'), '--json']).stdout);
  assert.deepEqual([info.frontEnd.height, info.frontEnd.width, info.frontEnd.channels, info.frontEnd.resize], [8, 8, 3, true]);
  // the resizing model takes any size; the other one refuses a 20×20 image
  writeFileSync(join(dir, 'big.png'), encodePng({ width: 20, height: 20, channels: 1, data: new Float32Array(400).fill(0.5) }));
  ok(run(['predict', '--model', join(dir, 'from-list'), '--input', join(dir, 'big.png')]), 'predict resized');
  failsWith(run(['predict', '--model', join(dir, 'from-tree'), '--input', join(dir, 'big.png')]), /big\.png: image is 20×20, the model reads 16×16/);
  for (const [name, re] of [['truncated.png', /corrupt PNG/], ['corrupt.jpg', /corrupt JPEG/], ['empty.png', /file is empty/]] as const) {
    copyFileSync(fixturePath(`image/${name}`), join(dir, name));
    failsWith(run(['predict', '--model', join(dir, 'from-tree'), '--input', join(dir, name)]), new RegExp(`^qkv: .*${name.replace('.', '\\.')}: ${re.source}`));
  }
  writeFileSync(join(dir, 'bad.tsv'), `tree/disk/0.png\tdisk\ntruncated.png\tdisk\n`);
  failsWith(run(['train', 'classify', '--train', join(dir, 'bad.tsv'), '--max-steps', '1', '--out', join(dir, 'bad')]), /truncated\.png: corrupt PNG/);
  failsWith(run(['train', 'classify', '--builtin', 'shapes', '--model', 'rnn', '--max-steps', '1', '--out', join(dir, 'rnn')]), /images take --model transformer .* or cnn, not rnn/);
});
