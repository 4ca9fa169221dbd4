// The bad-input catalogue of the newer surfaces (issue 25, item 5): WAV and image files, BPE
// tokenizer.json files, NUL bytes and invalid UTF-8 in every text input, export paths and
// flags, experiment JSON under --from, Hugging Face directories. Each refusal must exit
// non-zero with one line (at most 300 characters) naming the file, flag or path (and the
// tensor, for a safetensors file), no stack trace, and leave every existing file unchanged;
// the cases that are legal input must work. The count of cases per surface is in README.md
// (Tests); the test named "counts" below fails when they drift apart.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { data, decodeImage, encodePng, fromPretrained, loadSafetensors, QkvError, serializeSafetensors, tensor, type Tensor } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { changed, runCli, snapshot } from './run-cli.js';
import { jpegWithSize, pngBytes, wavBytes } from './media-bytes.js';

const D = mkdtempSync(join(tmpdir(), 'qkv-surfaces-'));
const p = (...parts: string[]) => join(D, ...parts);
const w = (name: string, bytes: string | Uint8Array): string => { writeFileSync(p(name), bytes); return p(name); };
after(() => rmSync(D, { recursive: true, force: true }));
const tiny = ['--max-steps', '1', '--eval-every', '1', '--batch-size', '4', '--layers', '1', '--d-model', '8', '--heads', '2'];
const spoken = fileURLToPath(new URL('../../../data/spoken/', import.meta.url));
const imageFixture = (name: string) => readFileSync(fixturePath(join('image', name)));

type Surface = 'wav' | 'image' | 'tokenizer.json' | 'text encoding' | 'export' | 'experiment --from' | 'hugging face';
/** A CLI case: refuses with one line matching `says`, or (says null) works. */
interface CliCase { surface: Surface; name: string; args: () => string[]; says: RegExp | null }
/** A library case: the function throws a one-line QkvError matching `says`, or (says null) returns. */
interface LibCase { surface: Surface; name: string; run: () => unknown; says: RegExp | null }
const cli: CliCase[] = [];
const lib: LibCase[] = [];
const refuses = (surface: Surface, name: string, args: () => string[], says: RegExp) => cli.push({ surface, name, args, says });
const works = (surface: Surface, name: string, args: () => string[]) => cli.push({ surface, name, args, says: null });
const libCase = (surface: Surface, name: string, run: () => unknown, says: RegExp | null) => lib.push({ surface, name, run, says });

before(async () => {
  // a BPE tag model (its tokenizer.json is damaged below) and a word tag model to export
  for (const [name, extra] of [['bpe', ['--tokenize', 'bpe', '--vocab-size', '300']], ['words', []]] as const) {
    const r = await runCli(['train', 'tag', '--builtin', 'ambiguity', '--n', '60', ...tiny, ...extra, '--out', p(name), '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  const lm = await runCli(['train', 'lm', '--data', w('lm-train.txt', 'the cat sat on the mat and saw a dog\n'.repeat(30)), '--out', p('lm'), '--block-size', '8', '--n-embd', '8',
    '--n-head', '2', '--n-layer', '1', '--max-iters', '1', '--eval-interval', '1', '--eval-iters', '1', '--batch-size', '2', '--json']);
  assert.equal(lm.code, 0, lm.stderr);
  const r = await runCli(['experiment', 'graph', '--quick', '--seeds', '1', '--out', p('exp'), '--no-png', '--json']);
  assert.equal(r.code, 0, r.stderr);
  mkdirSync(p('dir-out'), { recursive: true });
  w('sentence.txt', 'I saw a saw\n');
});

// ---- WAV files, read through a path<TAB>label list (the reader refuses before any training)
const goodWav = join(spoken, 'act-00.wav');
function wavList(name: string, bytes: Uint8Array): () => string[] {
  return () => {
    w(`${name}.wav`, bytes);
    const list = w(`${name}.tsv`, `${goodWav}\tact\n${goodWav}\tact\n${p(`${name}.wav`)}\tcat\n${goodWav}\tact\n`);
    return ['train', 'classify', '--train', list, '--out', p('never'), ...tiny];
  };
}
const wavCases: [string, Uint8Array, RegExp][] = [
  ['empty', new Uint8Array(0), /empty\.wav: file is empty/],
  ['riff-only', wavBytes().subarray(0, 4), /riff-only\.wav: truncated WAV header/],
  ['cut-in-fmt', wavBytes().subarray(0, 20), /cut-in-fmt\.wav: truncated WAV header/],
  ['cut-before-data', wavBytes().subarray(0, 36), /cut-before-data\.wav: (no data chunk|truncated)/],
  ['cut-in-data-header', wavBytes().subarray(0, 40), /cut-in-data-header\.wav: no data chunk/],
  ['header-only', wavBytes().subarray(0, 44), /header-only\.wav: audio of 0\.0 ms is shorter than one 25 ms window/],
  ['zero-samples', wavBytes({ samples: 0 }), /zero-samples\.wav: audio of 0\.0 ms/],
  ['one-sample', wavBytes({ samples: 1 }), /one-sample\.wav: audio of 0\.1 ms/],
  ['rate-0', wavBytes({ rate: 0 }), /rate-0\.wav: the fmt chunk says a sample rate of 0/],
  ['rate-1', wavBytes({ rate: 1 }), /rate-1\.wav: sample rate 1 Hz: qkv reads WAV files at 1000 to 384000 Hz/],
  ['rate-4e9', wavBytes({ rate: 4e9 }), /rate-4e9\.wav: sample rate 4000000000 Hz/],
  ['eleven-minutes', wavBytes({ rate: 1000, samples: 660_000 }), /eleven-minutes\.wav: 11\.0 minutes of audio: at most 10 minutes/],
  ['channels-0', wavBytes({ channels: 0 }), /channels-0\.wav: the fmt chunk says 0 channels/],
  ['mu-law', wavBytes({ format: 7, bits: 8 }), /mu-law\.wav: unsupported WAV encoding µ-law/],
  ['a-law', wavBytes({ format: 6, bits: 8 }), /a-law\.wav: unsupported WAV encoding A-law/],
  ['adpcm', wavBytes({ format: 2, bits: 4 }), /adpcm\.wav: unsupported WAV encoding MS ADPCM/],
  ['float64', wavBytes({ format: 3, bits: 64 }), /float64\.wav: unsupported WAV encoding 64-bit float/],
  ['pcm-12', wavBytes({ bits: 12 }), /pcm-12\.wav: unsupported WAV encoding 12-bit PCM/],
  ['format-0', wavBytes({ format: 0 }), /format-0\.wav: unsupported WAV encoding format tag 0/],
  ['not-riff', Buffer.concat([Buffer.from('RIFX'), wavBytes().subarray(4)]), /not-riff\.wav: big-endian WAV/],
  ['png-named-wav', encodePng({ width: 2, height: 2, channels: 1, data: new Float32Array(4) }), /png-named-wav\.wav: not a WAV file/],
];
for (const [name, bytes, says] of wavCases) refuses('wav', name, wavList(name, bytes), says);
// legal files that look odd: a data chunk declared past the end (as streamed WAVs write it) reads what is there
libCase('wav', 'declared size past the end', () => {
  const frames = data.wavFeatures(wavBytes({ declared: 0xffffffff }), 'huge.wav', data.audioFrontEnd());
  assert.equal(frames.length, 8, '1600 samples at 16 kHz: 8 frames of 25 ms every 10 ms');
}, null);
libCase('wav', 'stereo 8 kHz, resampled', () => assert.ok(data.wavFeatures(wavBytes({ channels: 2, rate: 8000 }), 's.wav', data.audioFrontEnd()).length > 0), null);

// ---- images, through a path<TAB>label list and decodeImage itself
const okPng = encodePng({ width: 8, height: 8, channels: 3, data: new Float32Array(192).fill(0.5) });
function imageList(name: string, bytes: Uint8Array, extra: string[] = []): () => string[] {
  return () => {
    w(name, bytes);
    w('ok-8.png', okPng);
    const list = w(`${name}.tsv`, `ok-8.png\ta\nok-8.png\tb\n${name}\ta\nok-8.png\tb\n`);
    return ['train', 'classify', '--train', list, '--out', p('never'), ...tiny, ...extra];
  };
}
const rgbPng = imageFixture('rgb.png');
const jpg = imageFixture('smooth.jpg');
const imageCases: [string, Uint8Array, RegExp][] = [
  ['magic-only.png', rgbPng.subarray(0, 8), /magic-only\.png: corrupt PNG/],
  ['cut-ihdr.png', rgbPng.subarray(0, 20), /cut-ihdr\.png: corrupt PNG/],
  ['cut-half.png', rgbPng.subarray(0, rgbPng.length >> 1), /cut-half\.png: corrupt PNG/],
  ['no-iend.png', rgbPng.subarray(0, rgbPng.length - 12), /no-iend\.png: corrupt (PNG|image)/],
  ['zero.png', pngBytes({ width: 0, height: 0, colorType: 2 }), /zero\.png: .*(0×0|corrupt)/],
  ['zero-wide.png', pngBytes({ width: 0, height: 5, colorType: 2 }), /zero-wide\.png: .*(0×5|corrupt)/],
  ['enormous.png', pngBytes({ width: 100000, height: 100000, colorType: 6, noData: true }), /enormous\.png: 100000×100000 pixels.*at most/],
  ['wide.png', pngBytes({ width: 2 ** 31 - 1, height: 1, colorType: 0, noData: true }), /wide\.png: (2147483647×1 pixels.*at most|corrupt PNG)/],
  ['bad-crc.png', (() => { const b = Buffer.from(rgbPng); b[29] = (b[29]! + 1) & 0xff; return b; })(), /bad-crc\.png: corrupt PNG/],
  ['palette-short.png', pngBytes({ width: 2, height: 1, colorType: 3, palette: [[255, 0, 0]], rows: [Uint8Array.from([0, 5])] }), /palette-short\.png: corrupt (PNG|image)/],
  ['soi-only.jpg', jpg.subarray(0, 2), /soi-only\.jpg: corrupt JPEG/],
  ['cut-header.jpg', jpg.subarray(0, 100), /cut-header\.jpg: corrupt JPEG/],
  ['enormous.jpg', jpegWithSize(jpg, 65000, 65000), /enormous\.jpg: 65000×65000 pixels.*at most/],
  ['zero.jpg', jpegWithSize(jpg, 0, 0), /zero\.jpg: corrupt (JPEG|image)/],
  ['text.png', Buffer.from('hello, not an image\n'), /text\.png: not a PNG or JPEG image/],
  ['wav.png', wavBytes(), /wav\.png: not a PNG or JPEG image/],
];
for (const [name, bytes, says] of imageCases) refuses('image', name, imageList(name, bytes), says);
// a JPEG cut in its scan data decodes what it has (as libjpeg does), so it is not refused
works('image', 'palette, grey, grey+alpha and 16-bit PNGs in one list, resized', () => {
  const files: [string, Uint8Array][] = [
    ['pal.png', pngBytes({ width: 4, height: 3, colorType: 3, palette: [[255, 0, 0], [0, 0, 255]], alpha: [255, 128], rows: [0, 1, 2].map(() => Uint8Array.from([0, 1, 0, 1])) })],
    ['grey.png', pngBytes({ width: 5, height: 5, colorType: 0 })],
    ['grey-alpha.png', pngBytes({ width: 6, height: 4, colorType: 4 })],
    ['grey16.png', imageFixture('gray16.png')],
  ];
  for (const [name, bytes] of files) w(name, bytes);
  w('mixed.tsv', files.map(([name], i) => `${name}\t${i % 2 ? 'a' : 'b'}`).join('\n') + '\n');
  return ['train', 'classify', '--train', p('mixed.tsv'), '--out', p('mixed-run'), '--image-size', '8', ...tiny.filter((f) => f !== '--heads' && f !== '2'), '--heads', '2', '--json'];
});
refuses('image', 'mixed sizes without --image-size', () => {
  w('eight.png', okPng);
  w('five.png', pngBytes({ width: 5, height: 5, colorType: 2 }));
  return ['train', 'classify', '--train', w('sizes.tsv', 'eight.png\ta\nfive.png\tb\neight.png\ta\n'), '--out', p('never'), ...tiny];
}, /five\.png: image is 5×5, .*8×8.*--image-size/);
libCase('image', 'palette with transparency decodes to its colours', () => {
  const px = decodeImage(pngBytes({ width: 2, height: 1, colorType: 3, palette: [[255, 0, 0], [0, 0, 255]], alpha: [255, 0], rows: [Uint8Array.from([0, 1])] }), 'pal.png');
  assert.deepEqual(Array.from(px.data), [1, 0, 0, 1, 0, 0, 1, 0]);
}, null);
libCase('image', 'grey+alpha decodes to grey RGB and its alpha', () => {
  const px = decodeImage(pngBytes({ width: 1, height: 1, colorType: 4, rows: [Uint8Array.from([51, 102])] }), 'ga.png');
  assert.deepEqual(Array.from(px.data, (x) => Math.round(x * 255)), [51, 51, 51, 102]);
}, null);
libCase('image', 'an enormous PNG is refused before allocating', () => {
  const before = process.memoryUsage().rss;
  try {
    decodeImage(pngBytes({ width: 60000, height: 60000, colorType: 6 /* with an IDAT of zeros: 14 GB if decoded */, noData: true }), 'big.png');
  } finally {
    assert.ok(process.memoryUsage().rss - before < 200e6, 'no large allocation');
  }
}, /big\.png: 60000×60000 pixels/);

// ---- tokenizer.json of a BPE model: damaged, or from another tokenizer
const tokenizerCases: [string, (good: string) => string | Uint8Array, RegExp][] = [
  ['truncated', (g) => g.slice(0, g.length >> 1), /tokenizer\.json: not valid JSON/],
  ['empty', () => '', /tokenizer\.json: (not valid JSON|file is empty|is empty)/],
  ['an array', () => '[]', /tokenizer\.json/],
  ['no model', () => '{}', /tokenizer\.json: .*model/],
  ['WordPiece', () => JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1 }, unk_token: '[UNK]' } }), /tokenizer\.json: .*WordPiece/],
  ['Unigram', () => JSON.stringify({ model: { type: 'Unigram', vocab: [['a', -1]] } }), /tokenizer\.json: .*Unigram/],
  ['merge of unknown pieces', (g) => { const j = JSON.parse(g); j.model.merges = [...j.model.merges, 'zzq qqz']; return JSON.stringify(j); }, /tokenizer\.json: .*merge/],
  ['vocabulary ids repeated', (g) => { const j = JSON.parse(g); const keys = Object.keys(j.model.vocab); j.model.vocab[keys[5]!] = j.model.vocab[keys[6]!]; return JSON.stringify(j); }, /tokenizer\.json/],
  ['vocabulary id out of range', (g) => { const j = JSON.parse(g); const keys = Object.keys(j.model.vocab); j.model.vocab[keys[5]!] = 1e9; return JSON.stringify(j); }, /tokenizer\.json/],
  ['NUL bytes', (g) => g.replace('"model"', '"mo\u0000del"'), /tokenizer\.json/],
  ['invalid UTF-8', (g) => Buffer.concat([Buffer.from(g.slice(0, 40)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(g.slice(40))]), /tokenizer\.json/],
  ["GPT-2's (from elsewhere)", () => readFileSync(fixturePath(join('hf', 'gpt2', 'tokenizer.json')), 'utf8'), /tokenizer\.json (has \d+ tokens but the model was trained with \d+|must have <pad> at id 0)/],
  ["BERT's (from elsewhere)", () => readFileSync(fixturePath(join('hf', 'bert-token', 'tokenizer.json')), 'utf8'), /tokenizer\.json: .*WordPiece/],
];
tokenizerCases.forEach(([name, damage, says], i) => {
  refuses('tokenizer.json', name, () => {
    const dir = p(`tok-${i}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(p('bpe', 'best'), dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), damage(readFileSync(p('bpe', 'best', 'tokenizer.json'), 'utf8')));
    return ['predict', '--model', dir, '--input', p('sentence.txt')];
  }, says);
});
// without its added_tokens the ids of <pad> and <unk> stay 0 and 1 (the vocabulary starts after them): the same predictions
works('tokenizer.json', 'no added_tokens', () => {
  const dir = p('tok-no-specials');
  rmSync(dir, { recursive: true, force: true });
  cpSync(p('bpe', 'best'), dir, { recursive: true });
  const j = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  j.added_tokens = [];
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(j));
  return ['predict', '--model', dir, '--input', p('sentence.txt')];
});

// ---- NUL bytes and invalid UTF-8 in every text input: refused naming the file (and line), never read as other text
const bad = { nul: (s: string) => s.replace('saw', 'sa\u0000w'), latin1: (s: string) => Buffer.concat([Buffer.from(s.slice(0, 3)), Buffer.from([0xe9, 0xff]), Buffer.from(s.slice(3))]) };
const textInputs: [string, string, (file: string) => string[]][] = [
  ['conllu', '1\tI\t_\tPRON\t_\t_\t_\t_\t_\t_\n2\tsaw\t_\tVERB\t_\t_\t_\t_\t_\t_\n\n1\tI\t_\tPRON\t_\t_\t_\t_\t_\t_\n2\tsaw\t_\tVERB\t_\t_\t_\t_\t_\t_\n\n', (f) => ['train', 'tag', '--train', f, '--out', p('never'), ...tiny]],
  ['tsv', 'I saw a saw\tpos\nthe saw was bad\tneg\n', (f) => ['train', 'classify', '--train', f, '--out', p('never'), ...tiny]],
  ['pairs.tsv', 'abc\tcba\nsaw\twas\n', (f) => ['train', 'seq2seq', '--train', f, '--out', p('never'), '--max-steps', '1']],
  ['txt', 'I saw a saw\n', (f) => ['predict', '--model', p('words'), '--input', f]],
  ['lm.txt', 'I saw a saw and the saw was sharp\n'.repeat(20), (f) => ['train', 'lm', '--data', f, '--out', p('never'), '--max-iters', '1']],
];
for (const [ext, text, args] of textInputs) {
  for (const [kind, damage] of Object.entries(bad)) {
    const name = `${kind}.${ext}`;
    refuses('text encoding', `${kind} in a .${ext} file`, () => args(w(name, damage(text))),
      new RegExp(`${name.replace(/\./g, '\\.')}(:\\d+)?: .*(${kind === 'nul' ? 'NUL' : 'UTF-8'})`));
  }
}

// ---- export: flags and output paths
const exp = (...extra: string[]) => () => ['export', '--model', p('words'), ...extra];
refuses('export', '--max-len 0', exp('--onnx', p('x.onnx'), '--max-len', '0'), /--max-len must be an integer from 1/);
refuses('export', '--max-len 10^12', exp('--onnx', p('x.onnx'), '--max-len', '1000000000000'), /--max-len must be an integer from 1 to \d+/);
refuses('export', '--opset 18', exp('--onnx', p('x.onnx'), '--opset', '18'), /--opset.*18/);
refuses('export', '--opset abc', exp('--onnx', p('x.onnx'), '--opset', 'abc'), /--opset.*abc/);
refuses('export', '--onnx a directory', exp('--onnx', p('dir-out')), /--onnx .*dir-out: is a directory; give the file to write/);
refuses('export', '--onnx under a file', exp('--onnx', join(p('sentence.txt'), 'x.onnx')), /--onnx .*sentence\.txt\/x\.onnx: .*sentence\.txt is a file, not a directory/);
refuses('export', 'viz --export a directory', () => ['viz', '--model', p('words'), '--export', p('dir-out')], /--export .*dir-out: is a directory/);
refuses('export', 'viz --export under /proc', () => ['viz', '--model', p('words'), '--export', '/proc/self/page.html'], /--export \/proc\/self\/page\.html: refusing to write under \/proc/);
refuses('export', '--onnx under /proc', exp('--onnx', '/proc/self/x.onnx'), /--onnx \/proc\/self\/x\.onnx: refusing to write under \/proc/);
refuses('export', '--onnx under /sys', exp('--onnx', '/sys/x.onnx'), /--onnx \/sys\/x\.onnx: refusing to write under \/sys/);
const expLm = (...extra: string[]) => () => ['export', '--model', p('lm'), ...extra];
refuses('export', '--torch a file', expLm('--torch', p('sentence.txt')), /--torch .*sentence\.txt: is a file, not a directory/);
refuses('export', '--torch under /proc', expLm('--torch', '/proc/qkv'), /--torch \/proc\/qkv: refusing to write under \/proc/);
refuses('export', '--torch for a tagger (no hand-off)', exp('--torch', p('torch-tag')), /--torch: a tag model has no PyTorch hand-off/);
refuses('export', '--onnx onto the model\'s own file', exp('--onnx', p('words', 'best', 'model.safetensors')), /--onnx .*model\.safetensors.*(reads|own|input)/);
refuses('export', '--torch into the model\'s own directory', expLm('--torch', p('lm', 'best')), /--torch .*best: .*is a file this run reads/);
refuses('export', '--onnx of an lm over the model\'s own file', expLm('--onnx', p('lm', 'best', 'model.safetensors')), /--onnx .*model\.safetensors.*is a file this run reads/);
works('export', '--onnx over an existing regular file (replaced whole)', () => { w('exists.onnx', 'old'); return exp('--onnx', p('exists.onnx'))(); });
works('export', '--max-len at its bound', exp('--onnx', p('maxlen.onnx'), '--max-len', '65536'));

// ---- experiment --from: damaged result files
const expCases: [string, (r: Record<string, unknown>) => unknown, RegExp][] = [
  ['truncated', (r) => JSON.stringify(r).slice(0, 200), /graph\.json: .*JSON/],
  ['empty', () => '', /graph\.json: .*JSON/],
  ['NUL bytes', () => '\u0000\u0000', /graph\.json: .*JSON/],
  ['invalid UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /graph\.json: .*(JSON|UTF-8)/],
  ['null', () => 'null', /graph\.json: not the results of experiment graph/],
  ['another experiment', (r) => ({ ...r, name: 'heads' }), /graph\.json: not the results of experiment graph/],
  ['summary a string', (r) => ({ ...r, summary: 'x' }), /graph\.json: not the results of experiment graph/],
  ['measures an array', (r) => ({ ...r, measures: [] }), /graph\.json: no "measures" object/],
  ['a summary row without numbers', (r) => ({ ...r, summary: [{ series: 'a' }] }), /graph\.json: summary row 0/],
  ['a summary row of another measure', (r) => ({ ...r, summary: [{ ...(r.summary as object[])[0], measure: 'nope' }] }), /graph\.json: summary row 0: measure "nope"/],
  ['a chart of a missing measure', (r) => ({ ...r, charts: [{ ...(r.charts as object[])[0], measure: 'nope' }] }), /graph\.json: chart 0: measure "nope"/],
  ['a chart that is not an object', (r) => ({ ...r, charts: [7] }), /graph\.json: chart 0/],
  ['a measure without a title', (r) => ({ ...r, measures: { accuracy: 3 } }), /graph\.json: measure "accuracy"/],
  ['verdict missing', (r) => { const { verdict: _v, ...rest } = r; return rest; }, /graph\.json: no "verdict"/],
];
expCases.forEach(([name, damage, says], i) => {
  refuses('experiment --from', name, () => {
    const dir = p(`exp-${i}`);
    mkdirSync(dir, { recursive: true });
    const out = damage(JSON.parse(readFileSync(p('exp', 'graph.json'), 'utf8')) as Record<string, unknown>);
    writeFileSync(join(dir, 'graph.json'), typeof out === 'string' || out instanceof Uint8Array ? out : JSON.stringify(out));
    return ['experiment', 'graph', '--from', dir, '--report', p(`exp-report-${i}`), '--no-png'];
  }, says);
});

// ---- Hugging Face directories: one line naming the file (and the tensor)
function hfCopy(name: string, damage: (dir: string) => void): string {
  const dir = p(`hf-${name}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(fixturePath(join('hf', 'bert-token')), dir, { recursive: true });
  damage(dir);
  return dir;
}
const withTensor = (dir: string, edit: (m: Map<string, Tensor>) => void) => {
  const file = join(dir, 'model.safetensors');
  const m = new Map(loadSafetensors(file).tensors);
  edit(m);
  writeFileSync(file, serializeSafetensors(m));
};
const editConfig = (dir: string, edit: (c: Record<string, unknown>) => void) => {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
};
const WORD = 'bert.embeddings.word_embeddings.weight';
const hfCases: [string, (dir: string) => void, RegExp][] = [
  ['config.json missing', (d) => rmSync(join(d, 'config.json')), /config\.json: cannot read: no such file/],
  ['config.json truncated', (d) => writeFileSync(join(d, 'config.json'), '{"architectures": ['), /config\.json: not valid JSON/],
  ['unknown architecture', (d) => editConfig(d, (c) => { c.architectures = ['FooForBar']; c.model_type = 'foo'; }), /config\.json: .*FooForBar/],
  ['hidden size not a number', (d) => editConfig(d, (c) => { c.hidden_size = 'big'; }), /config\.json: .*hidden_size/],
  ['model.safetensors missing', (d) => rmSync(join(d, 'model.safetensors')), /has no model\.safetensors/],
  ['header length past the end', (d) => { const f = join(d, 'model.safetensors'); const b = readFileSync(f); b.writeBigUInt64LE(BigInt(b.length * 2), 0); writeFileSync(f, b); }, /model\.safetensors: .*header/],
  ['header not JSON', (d) => { const f = join(d, 'model.safetensors'); const b = readFileSync(f); b.write('#', 8); writeFileSync(f, b); }, /model\.safetensors: .*(header|JSON)/],
  ['truncated data', (d) => { const f = join(d, 'model.safetensors'); const b = readFileSync(f); writeFileSync(f, b.subarray(0, b.length - 100)); }, /model\.safetensors: .*(tensor|"[a-z_.]+")/],
  ['a tensor of the wrong shape', (d) => withTensor(d, (m) => m.set(WORD, tensor(new Float32Array(7 * 32), { shape: [7, 32] }))), new RegExp(`${WORD.replace(/\./g, '\\.')}.*(shape|\\[7, 32\\])`)],
  ['a tensor of the wrong dtype', (d) => withTensor(d, (m) => { const t = m.get(WORD)!; m.set(WORD, tensor(new Int32Array(t.size), { shape: t.shape, dtype: 'int32' })); }), new RegExp(`${WORD.replace(/\./g, '\\.')}.*(dtype|int32|I32)`)],
  ['a tensor missing', (d) => withTensor(d, (m) => m.delete(WORD)), new RegExp(`${WORD.replace(/\./g, '\\.')}`)],
  ['a truncated shard', (d) => {
    const b = readFileSync(join(d, 'model.safetensors'));
    rmSync(join(d, 'model.safetensors'));
    writeFileSync(join(d, 'model-00001-of-00001.safetensors'), b.subarray(0, b.length - 64));
    const names = Object.keys(JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0))).toString('utf8'))).filter((k) => k !== '__metadata__');
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((k) => [k, 'model-00001-of-00001.safetensors'])) }));
  }, /model-00001-of-00001\.safetensors: /],
  ['an index naming a missing shard', (d) => {
    rmSync(join(d, 'model.safetensors'));
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [WORD]: 'model-00002-of-00002.safetensors' } }));
  }, /model-00002-of-00002\.safetensors/],
];
for (const [name, damage, says] of hfCases) {
  libCase('hugging face', name, () => fromPretrained(hfCopy(name.replace(/\W+/g, '-'), damage)), says);
}
refuses('hugging face', 'qkv predict on a directory with a damaged header', () => ['predict', '--model', hfCopy('cli-header', hfCases[6]![1]), '--input', p('sentence.txt')], /model\.safetensors: /);

test('counts: the README states these numbers of cases per surface', (t) => {
  const counts: Record<string, number> = {};
  for (const c of [...cli, ...lib]) counts[c.surface] = (counts[c.surface] ?? 0) + 1;
  t.diagnostic(Object.entries(counts).map(([k, n]) => `${k}: ${n}`).join(', '));
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  for (const [surface, n] of Object.entries(counts)) {
    assert.ok(readme.includes(`${surface}: ${n}`), `README.md should say "${surface}: ${n}" (the catalogue of the new surfaces)`);
  }
});

for (const c of cli) {
  test(`${c.surface}: ${c.name}`, async () => {
    const args = c.args();
    const before = snapshot(D);
    const r = await runCli(args);
    if (c.says === null) {
      assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}`);
      return;
    }
    const lines = r.stderr.trim().split('\n');
    assert.notEqual(r.code, 0, `exit code 0 for ${args.join(' ')}; stdout:\n${r.stdout}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace:\n${r.stderr}`);
    assert.ok(lines.length === 1 || (lines.length === 2 && /--help for usage/.test(lines[1]!)), `one line, got:\n${r.stderr}`);
    assert.ok(lines[0]!.length <= 300 + 'error: '.length, `${lines[0]!.length} characters: ${lines[0]}`);
    assert.match(lines[0]!, c.says);
    assert.deepEqual(changed(before, snapshot(D)), [], 'files that existed are unchanged');
  });
}

for (const c of lib) {
  test(`${c.surface}: ${c.name}`, () => {
    if (c.says === null) {
      c.run();
      return;
    }
    assert.throws(() => c.run(), (e: unknown) => {
      assert.ok(e instanceof QkvError, `not a QkvError: ${(e as Error)?.stack ?? String(e)}`);
      assert.ok(!e.message.includes('\n') && e.message.length <= 300, `one line of at most 300 characters: ${e.message}`);
      assert.match(e.message, c.says!);
      return true;
    });
  });
}
