// Property-based fuzzing (fast-check) of every reader: on any input (random text, and valid files
// with random damage) a reader returns examples or throws a QkvError whose message is one line
// of at most 300 characters naming the file; nothing else. Short here (FUZZ_RUNS, default 150
// inputs per reader); `npm run fuzz` runs the same properties with QKV_FUZZ_RUNS=20000.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import * as q from '../../src/index.js';
import { data, QkvError } from '../../src/index.js';

const RUNS = Number(process.env.QKV_FUZZ_RUNS ?? 150);
const D = mkdtempSync(join(tmpdir(), 'qkv-fuzz-'));
after(() => rmSync(D, { recursive: true, force: true }));

/** Runs `read`; a throw must be a QkvError of one line naming `file`. Disposes tensors it returns. */
function clean(file: string, read: () => unknown): void {
  try {
    const out = read();
    disposeAll(out);
  } catch (e) {
    if (!(e instanceof QkvError)) throw new Error(`not a QkvError: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.ok(e.message.length <= 300, `${e.message.length} characters: ${e.message.slice(0, 400)}`);
    assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
  }
}

function disposeAll(v: unknown): void {
  if (v instanceof q.Tensor) v.dispose();
  else if (v instanceof Map) for (const x of v.values()) disposeAll(x);
  else if (v && typeof v === 'object' && !Array.isArray(v)) for (const x of Object.values(v)) disposeAll(x);
}

/** Text built from a reader's own alphabet (tabs, newlines, digits, brackets...) so damage hits its rules. */
const textOf = (pieces: string[]) => fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 6 })), { maxLength: 60 }).map((a) => a.join(''));

/** A valid text with random damage: characters deleted, duplicated or replaced. */
function damaged(valid: string, pieces: string[]): fc.Arbitrary<string> {
  return fc.array(fc.tuple(fc.nat(valid.length), fc.nat(3), fc.constantFrom(...pieces)), { maxLength: 6 }).map((edits) => {
    let s = valid;
    for (const [at, kind, piece] of edits) {
      const i = at % (s.length + 1);
      s = kind === 0 ? s.slice(0, i) + s.slice(i + 1) : kind === 1 ? s.slice(0, i) + piece + s.slice(i) : kind === 2 ? s.slice(0, i) + s.slice(i, i + 5).repeat(2) + s.slice(i + 5) : s.slice(0, i) + piece + s.slice(i + piece.length);
    }
    return s;
  });
}

const CONLLU = '# text = I saw\n1\tI\t_\tPRON\tPRP\t_\t2\tnsubj\t_\t_\n2-3\tsaw\t_\t_\t_\t_\t_\t_\t_\t_\n2\tsaw\t_\tVERB\tVBD\t_\t0\troot\t_\t_\n\n';
const CONLL = 'I PRON\nsaw VERB\n\nyou PRON\n';
const TSV = 'great movie\tpos\nawful\tneg\n';
const FRAMES = '{"frames": [[0.5, 1], [2, -3]], "labels": ["a", "b"]}\n{"frames": [[1e-3, 0]], "labels": ["c"]}\n';
const GRAPH = '{"nodes": [[1, 0], [0, 1], [1, 1]], "edges": [[0, 1], [1, 2]], "labels": ["x", "y", "x"]}\n';
const PIECES = ['\t', '\n', '\r\n', ' ', '_', '#', '-', '.', '1', '0', '-1', '9999999999', '[', ']', '{', '}', ',', '"', ':', 'null', 'NaN', '1e999', '\ufeff', 'é', '\u0000'];

const readers: [string, string, (text: string, file: string) => unknown][] = [
  ['CoNLL-U', CONLLU, (t, f) => data.readConllu(t, f, { column: 'upos' })],
  ['CoNLL-U xpos', CONLLU, (t, f) => data.readConllu(t, f, { column: 'xpos' })],
  ['CoNLL', CONLL, (t, f) => data.readConll(t, f)],
  ['TSV classify', TSV, (t, f) => data.readClassifyTsv(t, f)],
  ['TSV pairs', TSV, (t, f) => data.readPairsTsv(t, f, { tokenize: 'words' })],
  ['JSONL frames', FRAMES, (t, f) => data.readFramesJsonl(t, f, {})],
  ['JSONL graphs', GRAPH, (t, f) => data.readGraphJsonl(t, f, {})],
  ['JSONL predict inputs', GRAPH, (t, f) => data.readInputsJsonl(t, f, { dim: 2 })],
];
for (const [name, valid, read] of readers) {
  test(`fuzz ${name}: random and damaged files give examples or one clean line`, () => {
    assert.doesNotThrow(() => read(valid, 'valid.txt'), 'the undamaged file reads');
    fc.assert(fc.property(fc.oneof(textOf(PIECES), damaged(valid, PIECES)), (text) => clean('f.data', () => read(text, 'f.data'))), { numRuns: RUNS, seed: 10 });
  });
}

test('fuzz text files: any bytes read as UTF-8 text or one clean line', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const file = join(D, 'text.txt');
    writeFileSync(file, bytes);
    clean(file, () => q.readTextFile(file));
  }), { numRuns: RUNS, seed: 11 });
});

test('fuzz safetensors: random and damaged bytes parse or give one clean line', () => {
  const valid = q.serializeSafetensors(new Map([['a', q.tensor([[1, 2], [3, 4]])], ['b', q.tensor([1, 2, 3], { dtype: 'int32' })]]), { k: 'v' });
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
      const b = Uint8Array.from(valid);
      for (const [i, v] of edits) b[i] = v;
      return b;
    }),
    fc.nat(valid.length).map((n) => valid.slice(0, n)),
  );
  fc.assert(fc.property(bytes, (b) => clean('m.safetensors', () => q.parseSafetensors(b, 'm.safetensors'))), { numRuns: RUNS, seed: 12 });
});

test('fuzz checkpoints and configs: damaged config.json / trainer.json / model.safetensors read or give one clean line', () => {
  // a real checkpoint, then one of its files damaged
  const ck = join(D, 'ck');
  const model = new q.nn.Linear(2, 2);
  q.saveCheckpoint(ck, { config: { format: 'qkv-checkpoint', task: 'tag', model: { kind: 'fc' } }, model, trainer: { state: { step: 1 } } });
  const files = { 'config.json': '{"format": "qkv-checkpoint", "task": "tag", "model": {"kind": "fc"}}', 'trainer.json': '{"state": {"step": 1, "best": null}}' };
  let n = 0;
  fc.assert(fc.property(fc.constantFrom('config.json', 'trainer.json', 'model.safetensors'), fc.string({ maxLength: 40 }), fc.nat(200), (name, junk, cut) => {
    const dir = join(D, `ck-${n++}`);
    cpSync(ck, dir, { recursive: true });
    const text = name === 'model.safetensors' ? junk : files[name as keyof typeof files].slice(0, cut % 80) + junk;
    writeFileSync(join(dir, name), text);
    clean(dir, () => q.readCheckpoint(dir));
    rmSync(dir, { recursive: true, force: true });
  }), { numRuns: Math.ceil(RUNS / 3), seed: 13 });
});

test('fuzz options objects: any keys give a module or one clean line naming the class', () => {
  const key = fc.oneof(fc.constantFrom('normFirst', 'norm_first', 'batch_first', 'dropout', 'dim_feedforward', 'dimFeedforward', 'layerNormEps', 'bias'), fc.string({ maxLength: 8 }));
  fc.assert(fc.property(fc.dictionary(key, fc.constantFrom(true, false, 0, 0.1, 16)), (options) => {
    clean('TransformerEncoderLayer', () => { new q.nn.TransformerEncoderLayer(8, 2, options); });
  }), { numRuns: RUNS, seed: 14 });
});
