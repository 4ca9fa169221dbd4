// Seeded, bounded fuzzing (fast-check) of the readers of the newer surfaces: WAV (parse and
// log-mel features), PNG/JPEG decoding, tokenizer.json, and safetensors headers. On random
// bytes and on valid files with random damage (bytes flipped, cut, spliced, header fields set
// to extreme values), a reader returns or throws a one-line QkvError naming the file, never
// another error, and never allocates for a size the bytes do not hold. FUZZ_RUNS inputs per
// property (QKV_FUZZ_RUNS, default 150; `npm run fuzz` runs 20,000).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { data, decodeImage, encodePng, parseSafetensors, parseTokenizerJson, QkvError, serializeSafetensors, tensor } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { pngBytes, wavBytes } from './media-bytes.js';

const RUNS = Number(process.env.QKV_FUZZ_RUNS ?? 150);
const options = (seed: number) => ({ numRuns: RUNS, seed });

/** `read` returns, or throws a one-line QkvError (at most 300 characters) naming `file`. */
function clean(file: string, read: () => unknown): void {
  try {
    read();
  } catch (e) {
    if (!(e instanceof QkvError)) throw new Error(`not a QkvError: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(!e.message.includes('\n') && e.message.length <= 300, `one line of at most 300 characters: ${e.message}`);
    assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
  }
}

/** A valid file with random damage: bytes replaced, a cut, a splice of its own bytes, 32-bit fields set to extremes. */
function damaged(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(valid.length), fc.nat(4), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 65535));
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b = Buffer.from(valid);
    for (const [at, kind, byte, big] of edits) {
      const i = at % Math.max(1, b.length);
      if (kind === 0) b[i] = byte;
      else if (kind === 1) b = b.subarray(0, i);
      else if (kind === 2) b = Buffer.concat([b.subarray(0, i), b.subarray(i >> 1)]);
      else if (i + 4 <= b.length) kind === 3 ? b.writeUInt32LE(big >>> 0, i) : b.writeUInt32BE(big >>> 0, i);
    }
    return new Uint8Array(b);
  });
}
const anyBytes = fc.uint8Array({ maxLength: 300 });

test('fuzz: WAV bytes (parseWav and the log-mel front end)', () => {
  const fe = data.audioFrontEnd();
  const valid = [wavBytes({ samples: 800 }), wavBytes({ channels: 2, rate: 8000, samples: 400 }), wavBytes({ bits: 8, samples: 800 }), wavBytes({ format: 3, bits: 32, samples: 400 })];
  fc.assert(fc.property(fc.oneof(anyBytes, ...valid.map(damaged)), (bytes) => {
    clean('f.wav', () => data.wavFeatures(bytes, 'f.wav', fe));
  }), options(11));
});

test('fuzz: PNG and JPEG bytes (decodeImage)', () => {
  const valid = [
    encodePng({ width: 6, height: 5, channels: 3, data: Float32Array.from({ length: 90 }, (_, i) => (i % 7) / 7) }),
    pngBytes({ width: 3, height: 2, colorType: 3, palette: [[1, 2, 3], [200, 100, 50]], alpha: [255, 9], rows: [Uint8Array.from([0, 1, 0]), Uint8Array.from([1, 1, 0])] }),
    pngBytes({ width: 4, height: 4, colorType: 4 }),
    readFileSync(fixturePath(join('image', 'smooth.jpg'))),
    readFileSync(fixturePath(join('image', 'progressive.jpg'))),
  ];
  fc.assert(fc.property(fc.oneof(anyBytes, ...valid.map(damaged)), (bytes) => {
    clean('f.img', () => {
      const px = decodeImage(bytes, 'f.img');
      assert.equal(px.data.length, px.width * px.height * 4);
    });
  }), options(12));
});

test('fuzz: tokenizer.json text (parseTokenizerJson)', () => {
  const valid = readFileSync(fixturePath(join('hf', 'gpt2', 'tokenizer.json')), 'utf8');
  const pieces = ['{', '}', '[', ']', '"', ':', ',', '"model"', '"BPE"', '"merges"', '"vocab"', '"type"', '"added_tokens"', '0', '-1', '1e9', 'null', '\u0000', 'Ġ'];
  const damagedText = fc.array(fc.tuple(fc.nat(valid.length), fc.nat(2), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 5 }).map((edits) => {
    let s = valid;
    for (const [at, kind, piece] of edits) {
      const i = at % (s.length + 1);
      s = kind === 0 ? s.slice(0, i) + s.slice(i + 20) : kind === 1 ? s.slice(0, i) + piece + s.slice(i) : s.slice(0, i);
    }
    return s;
  });
  const fields = fc.record({
    vocab: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(1e12), fc.string({ maxLength: 2 })), { maxKeys: 12 }),
    merges: fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 })), { maxLength: 8 }),
  }).map(({ vocab, merges }) => JSON.stringify({ model: { type: 'BPE', vocab, merges }, added_tokens: [] }));
  fc.assert(fc.property(fc.oneof(damagedText, fields, fc.string({ maxLength: 200 })), (text) => {
    clean('t/tokenizer.json', () => parseTokenizerJson(text, 't/tokenizer.json'));
  }), options(13));
});

test('fuzz: safetensors headers (parseSafetensors): extreme offsets, shapes and lengths', () => {
  const valid = serializeSafetensors(new Map([['a.weight', tensor(new Float32Array(12), { shape: [3, 4] })], ['b', tensor(new Int32Array(3), { shape: [3], dtype: 'int32' })]]));
  const headerLength = Number(Buffer.from(valid).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(valid.subarray(8, 8 + headerLength)).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
  const edits = fc.record({
    shape: fc.array(fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constant(2 ** 40), fc.constant(0.5)), { maxLength: 4 }),
    offsets: fc.tuple(fc.oneof(fc.nat(80), fc.constant(2 ** 53)), fc.oneof(fc.nat(80), fc.constant(2 ** 53))),
    dtype: fc.constantFrom('F32', 'I32', 'F64', 'BF16', 'F8_E4M3', 'X9', ''),
    declared: fc.oneof(fc.constant(-1), fc.nat(200), fc.constant(2 ** 40)),
  }).map(({ shape, offsets, dtype, declared }) => {
    const h = JSON.stringify({ ...header, 'a.weight': { dtype, shape, data_offsets: offsets } });
    const head = Buffer.alloc(8);
    head.writeBigInt64LE(BigInt(declared === -1 ? Buffer.byteLength(h) : declared), 0);
    return new Uint8Array(Buffer.concat([head, Buffer.from(h), Buffer.from(valid.subarray(8 + headerLength))]));
  });
  fc.assert(fc.property(fc.oneof(edits, damaged(valid), anyBytes), (bytes) => {
    clean('m.safetensors', () => {
      const r = parseSafetensors(bytes, 'm.safetensors');
      for (const t of r.tensors.values()) t.dispose();
    });
  }), options(14));
});
