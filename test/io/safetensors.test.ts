// safetensors: round trips, decoding of every dtype against values computed here, every
// malformed-input error, a file written from PyTorch (scripts/golden.py), the atomic file save,
// and module state dicts through files.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Generator, SafetensorsError, Tensor, arange, assign, loadSafetensors, loadStateDictFile, memory, nn, noGrad,
  parseSafetensors, randn, saveSafetensors, saveStateDict, serializeSafetensors, tensor,
} from '../../src/index.js';
import { forEachBackend } from '../helpers.js';
import { repoRoot } from '../fixtures.js';


const enc = new TextEncoder();

/** A safetensors file from a header (object or raw JSON text) and data bytes, header length as given or computed. */
function file(header: unknown, data: Uint8Array | number[] = [], headerLength?: number): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of values written with a DataView setter. */
function bytesOf(n: number, size: number, set: (v: DataView, at: number, i: number) => void): Uint8Array {
  const out = new Uint8Array(n * size);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) set(v, i * size, i);
  return out;
}

/** Asserts that parsing throws a SafetensorsError with exactly this message. */
function rejects(bytes: Uint8Array, message: string | RegExp, source = 'bad.safetensors'): void {
  assert.throws(() => parseSafetensors(bytes, source), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected a SafetensorsError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `message is not one line: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, `${source}: ${message}`);
    else assert.match(e.message, message);
    return true;
  });
}

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

/** Float32 bit-exact equality (NaN == NaN, 0 != -0). */
function sameFloats(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Object.is(actual[i], expected[i]), `${what}: index ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

// ---- independent reference decoders (arithmetic, not bit shuffling)

/** The value of a float16 bit pattern, from its definition. */
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** The value of a bfloat16 bit pattern, from its definition. */
function bfloatValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const f = h & 0x7f;
  if (e === 0) return s * f * 2 ** -133;
  if (e === 255) return f ? NaN : s * Infinity;
  return s * (1 + f / 128) * 2 ** (e - 127);
}

describe('safetensors round trip', () => {
  test('shapes (0-d, empty, 1-d, 3-d), both dtypes, metadata, non-contiguous views', () => {
    const base = arange(0, 12, 1, { dtype: 'float32' }).reshape([3, 4]);
    const transposed = base.transpose(0, 1); // [4, 3], not contiguous
    const strided = arange(0, 10).slice(0, 1, 9, 3); // [1, 4, 7], int32, step 3
    const f = Float32Array.from([1.5, -0, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1e-45, -2.25]);
    const given: Record<string, Tensor> = {
      'b.float': tensor(f, { shape: [2, 2, 2] }),
      'a.int': tensor(Int32Array.from([-2147483648, 2147483647, 0, -1]), { shape: [4] }),
      scalar: tensor(Float32Array.from([7.25]), { shape: [] }),
      'scalar.int': tensor(Int32Array.from([-3]), { shape: [] }),
      empty: tensor(new Float32Array(0), { shape: [0, 5] }),
      'empty.int': tensor(new Int32Array(0), { shape: [3, 0, 2] }),
      transposed,
      strided,
    };
    const metadata = { format: 'pt', 'ключ': 'значение ✓', empty: '' };
    const bytes = serializeSafetensors(given, metadata);

    // layout: header length a multiple of 8, space padded, names sorted, offsets contiguous
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    assert.match(text, /^\{.*\} *$/);
    const header = JSON.parse(text) as Record<string, any>;
    assert.deepEqual(header.__metadata__, metadata);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    assert.deepEqual(names, Object.keys(given).sort());
    let at = 0;
    for (const k of names) {
      assert.equal(header[k].data_offsets[0], at, `${k} starts where the previous ended`);
      at = header[k].data_offsets[1];
    }
    assert.equal(8 + n + at, bytes.length);
    assert.equal(header.transposed.dtype, 'F32');
    assert.equal(header.strided.dtype, 'I32');

    const { tensors, metadata: md } = parseSafetensors(bytes);
    assert.deepEqual(md, metadata);
    assert.deepEqual([...tensors.keys()].sort(), Object.keys(given).sort());
    for (const [k, t] of Object.entries(given)) {
      const back = tensors.get(k)!;
      assert.deepEqual(back.shape, t.shape, `${k} shape`);
      assert.equal(back.dtype, t.dtype, `${k} dtype`);
      sameFloats(back.toTypedArray(), t.toTypedArray(), k);
    }
    assert.deepEqual(tensors.get('transposed')!.toArray(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
    assert.deepEqual(tensors.get('strided')!.toArray(), [1, 4, 7]);
    disposeAll(tensors);
    for (const t of Object.values(given)) t.dispose();
    base.dispose();
  });

  test('a Map works, metadata is optional, no tensors is a valid file, a tied tensor is written per name', () => {
    const w = tensor([[1, 2], [3, 4]]);
    const bytes = serializeSafetensors(new Map([['lm_head.weight', w], ['wte.weight', w]]));
    const { tensors, metadata } = parseSafetensors(bytes);
    assert.deepEqual(metadata, {});
    assert.equal(tensors.size, 2);
    assert.notEqual(tensors.get('lm_head.weight'), tensors.get('wte.weight'));
    assert.deepEqual(tensors.get('lm_head.weight')!.toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(tensors.get('wte.weight')!.toArray(), [[1, 2], [3, 4]]);
    disposeAll(tensors);
    w.dispose();

    const none = serializeSafetensors({});
    assert.equal(none.length, 16); // "{}" padded to 8
    const parsed = parseSafetensors(none);
    assert.equal(parsed.tensors.size, 0);
  });

  test('parses from a Uint8Array at an odd byte offset of a larger buffer (unaligned data)', () => {
    const t = tensor([1.5, -2, 3]);
    const bytes = serializeSafetensors({ x: t });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 1);
    const { tensors } = parseSafetensors(big.subarray(1, 1 + bytes.length));
    assert.deepEqual(tensors.get('x')!.toArray(), [1.5, -2, 3]);
    disposeAll(tensors);
    t.dispose();
  });

  test('serialize refuses what it cannot write', () => {
    const t = tensor([1]);
    const dead = tensor([2]);
    dead.dispose();
    const cases: [() => unknown, string][] = [
      [() => serializeSafetensors({ x: t }, { epoch: 3 } as any), 'serializeSafetensors: metadata value of "epoch" is number (3), not a string'],
      [() => serializeSafetensors({ x: t }, ['a'] as any), 'serializeSafetensors: metadata must be an object of strings, got an array'],
      [() => serializeSafetensors({ __metadata__: t }), 'serializeSafetensors: "__metadata__" is reserved for the metadata and cannot name a tensor'],
      [() => serializeSafetensors({ x: [1, 2] as any }), 'serializeSafetensors: "x" is an array, not a Tensor'],
      [() => serializeSafetensors({ dead }), 'serializeSafetensors: tensor "dead" [1] was disposed'],
      [() => serializeSafetensors(new Map([['', t]])), 'serializeSafetensors: tensor names must be non-empty strings, got ""'],
    ];
    for (const [fn, message] of cases) assert.throws(fn, { name: 'SafetensorsError', message });
    t.dispose();
  });
});

forEachBackend('safetensors on each backend (tensors read into the backend\'s memory)', () => {
  test('round trip of F32/I32 and decoding of F16/BF16/I64 into fresh (poisoned) memory', () => {
    const f = randn([5, 7], { generator: new Generator(3) });
    const i = tensor(Int32Array.from([9, -8, 7]), { shape: [3] });
    const { tensors } = parseSafetensors(serializeSafetensors({ f, i }));
    sameFloats(tensors.get('f')!.toTypedArray(), f.toTypedArray(), 'f');
    assert.deepEqual(tensors.get('i')!.toArray(), [9, -8, 7]);
    disposeAll(tensors);
    const half = bytesOf(5, 2, (v, at, k) => v.setUint16(at, [0x3c00, 0x8001, 0x7c00, 0x0000, 0xc000][k]!, true));
    const bf = bytesOf(2, 2, (v, at, k) => v.setUint16(at, [0x3f80, 0xc040][k]!, true));
    const i64 = bytesOf(2, 8, (v, at, k) => v.setBigInt64(at, [-5n, 6n][k]!, true));
    const data = new Uint8Array([...half, ...bf, ...i64]);
    const parsed = parseSafetensors(file({
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
      l: { dtype: 'I64', shape: [2], data_offsets: [14, 30] },
    }, data));
    sameFloats(parsed.tensors.get('h')!.toTypedArray(), [1, -(2 ** -24), Infinity, 0, -2], 'F16');
    sameFloats(parsed.tensors.get('b')!.toTypedArray(), [1, -3], 'BF16');
    assert.deepEqual(parsed.tensors.get('l')!.toArray(), [-5, 6]);
    disposeAll(parsed.tensors);
    f.dispose();
    i.dispose();
  });
});

describe('safetensors decoding', () => {
  test('F16: all 65536 bit patterns (subnormals, inf, nan, -0) against the definition', () => {
    const data = bytesOf(65536, 2, (v, at, i) => v.setUint16(at, i, true));
    const { tensors } = parseSafetensors(file({ h: { dtype: 'F16', shape: [256, 256], data_offsets: [0, data.length] } }, data));
    const got = tensors.get('h')!;
    assert.equal(got.dtype, 'float32');
    const values = got.toTypedArray();
    for (let h = 0; h < 65536; h++) {
      const want = halfValue(h);
      assert.ok(Object.is(values[h], want) || (Number.isNaN(want) && Number.isNaN(values[h]!)), `F16 0x${h.toString(16)}: got ${values[h]}, expected ${want}`);
    }
    // spot checks of the named cases
    assert.equal(values[0x0001], 2 ** -24); // smallest subnormal
    assert.equal(values[0x03ff], 1023 * 2 ** -24); // largest subnormal
    assert.equal(values[0x0400], 2 ** -14); // smallest normal
    assert.equal(values[0x7bff], 65504);
    assert.equal(values[0x7c00], Infinity);
    assert.equal(values[0xfc00], -Infinity);
    assert.ok(Number.isNaN(values[0x7e00]));
    assert.ok(Object.is(values[0x8000], -0));
    assert.equal(values[0x3c00], 1);
    assert.equal(values[0x3555], 0.333251953125);
    disposeAll(tensors);
  });

  test('BF16: all 65536 bit patterns against the definition', () => {
    const data = bytesOf(65536, 2, (v, at, i) => v.setUint16(at, i, true));
    const { tensors } = parseSafetensors(file({ b: { dtype: 'BF16', shape: [65536], data_offsets: [0, data.length] } }, data));
    const values = tensors.get('b')!.toTypedArray();
    for (let h = 0; h < 65536; h++) {
      const want = bfloatValue(h);
      assert.ok(Object.is(values[h], want) || (Number.isNaN(want) && Number.isNaN(values[h]!)), `BF16 0x${h.toString(16)}: got ${values[h]}, expected ${want}`);
    }
    assert.equal(values[0x3f80], 1);
    assert.ok(Object.is(values[0x8000], -0));
    assert.equal(values[0x7f80], Infinity);
    disposeAll(tensors);
  });

  test('I64 (and U64) to int32: the int32 extremes are exact, anything outside is an error naming the tensor', () => {
    const ints = [0n, -1n, 2147483647n, -2147483648n, 123456789n, -987654321n];
    const data = bytesOf(ints.length, 8, (v, at, i) => v.setBigInt64(at, ints[i]!, true));
    const { tensors } = parseSafetensors(file({ ids: { dtype: 'I64', shape: [2, 3], data_offsets: [0, 48] } }, data));
    const ids = tensors.get('ids')!;
    assert.equal(ids.dtype, 'int32');
    assert.deepEqual(ids.toArray(), [[0, -1, 2147483647], [-2147483648, 123456789, -987654321]]);
    disposeAll(tensors);

    for (const [dtype, value, shown] of [['I64', 2147483648n, '2147483648'], ['I64', -2147483649n, '-2147483649'], ['I64', 2n ** 62n, String(2n ** 62n)], ['U64', 2n ** 63n, String(2n ** 63n)]] as const) {
      const bad = bytesOf(3, 8, (v, at, i) => v.setBigUint64(at, BigInt.asUintN(64, i === 2 ? value : BigInt(i)), true));
      rejects(file({ 'pos.ids': { dtype, shape: [3], data_offsets: [0, 24] } }, bad), `tensor "pos.ids": ${dtype} value ${shown} at flat index 2 does not fit in int32`);
    }
    const u64 = bytesOf(2, 8, (v, at, i) => v.setBigUint64(at, [7n, 2147483647n][i]!, true));
    const ok = parseSafetensors(file({ u: { dtype: 'U64', shape: [2], data_offsets: [0, 16] } }, u64));
    assert.deepEqual(ok.tensors.get('u')!.toArray(), [7, 2147483647]);
    disposeAll(ok.tensors);
  });

  test('F64 to float32 (rounded), I32/I16/U16/I8/U8/U32/BOOL to int32', () => {
    const f64 = [0.1, -2.5, 1e300, 1e-50, -0, 1 / 3];
    const entries: [string, string, number[], number, (v: DataView, at: number, x: number) => void][] = [
      ['d', 'F64', f64, 8, (v, at, x) => v.setFloat64(at, x, true)],
      ['i32', 'I32', [-2147483648, 2147483647, 5], 4, (v, at, x) => v.setInt32(at, x, true)],
      ['u32', 'U32', [0, 2147483647], 4, (v, at, x) => v.setUint32(at, x, true)],
      ['i16', 'I16', [-32768, -1, 32767], 2, (v, at, x) => v.setInt16(at, x, true)],
      ['u16', 'U16', [0, 65535], 2, (v, at, x) => v.setUint16(at, x, true)],
      ['i8', 'I8', [-128, -1, 127], 1, (v, at, x) => v.setInt8(at, x)],
      ['u8', 'U8', [0, 128, 255], 1, (v, at, x) => v.setUint8(at, x)],
      ['mask', 'BOOL', [1, 0, 1, 1], 1, (v, at, x) => v.setUint8(at, x)],
    ];
    const header: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const [name, dtype, vals, size, set] of entries) {
      const b = bytesOf(vals.length, size, (v, o, i) => set(v, o, vals[i]!));
      header[name] = { dtype, shape: [vals.length], data_offsets: [at, at + b.length] };
      chunks.push(b);
      at += b.length;
    }
    const data = new Uint8Array(at);
    chunks.reduce((o, c) => (data.set(c, o), o + c.length), 0);
    const { tensors } = parseSafetensors(file(header, data));
    sameFloats(tensors.get('d')!.toTypedArray(), f64.map(Math.fround), 'F64');
    assert.equal(tensors.get('d')!.toTypedArray()[2], Infinity);
    for (const [name, , vals] of entries.slice(1)) {
      assert.equal(tensors.get(name)!.dtype, 'int32', name);
      assert.deepEqual(Array.from(tensors.get(name)!.toTypedArray()), vals, name);
    }
    disposeAll(tensors);
    const u32 = bytesOf(1, 4, (v, o) => v.setUint32(o, 2147483648, true));
    rejects(file({ u: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, u32), 'tensor "u": U32 value 2147483648 at flat index 0 does not fit in int32');
  });

  test('header padded with spaces, tensors stored in another order than the header lists them', () => {
    const a = bytesOf(2, 4, (v, o, i) => v.setFloat32(o, i + 0.5, true));
    const b = bytesOf(1, 4, (v, o) => v.setInt32(o, -9, true));
    const data = new Uint8Array([...b, ...a]);
    const json = JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] }, b: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }) + '     ';
    const { tensors } = parseSafetensors(file(json, data));
    assert.deepEqual([...tensors.keys()], ['a', 'b']);
    assert.deepEqual(tensors.get('a')!.toArray(), [0.5, 1.5]);
    assert.deepEqual(tensors.get('b')!.toArray(), [-9]);
    disposeAll(tensors);
  });
});

describe('safetensors malformed input (one clear line each)', () => {
  const f32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Uint8Array(8);

  test('too short, header length past the end, not UTF-8, not JSON, not an object', () => {
    rejects(new Uint8Array(5), 'file is 5 bytes, too short for the 8-byte header length');
    rejects(file({ x: f32x2 }, eight, 1000), /^bad\.safetensors: header length 1000 runs past the end of the file \(\d+ bytes follow the length field\)$/);
    const huge = file({}, [], 0);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
    rejects(huge, `header length ${2 ** 60} runs past the end of the file (2 bytes follow the length field)`);
    const latin1 = file('{"x":1}');
    latin1[10] = 0xff;
    rejects(latin1, 'header is not valid UTF-8');
    rejects(file('{"x": {"dtype": "F32",'), /^bad\.safetensors: header is not valid JSON \(.+\)$/);
    rejects(file('[1, 2]'), 'header is an array, not a JSON object');
    rejects(file('null'), 'header is null, not a JSON object');
  });

  test('entries: not an object, missing keys, bad dtype, shape and offsets', () => {
    rejects(file({ x: 3 }), 'tensor "x": entry is number, not an object');
    rejects(file({ x: { shape: [2], data_offsets: [0, 8] } }, eight), 'tensor "x": entry has no "dtype"');
    rejects(file({ x: { dtype: 'F32', data_offsets: [0, 8] } }, eight), 'tensor "x": entry has no "shape"');
    rejects(file({ x: { dtype: 'F32', shape: [2] } }, eight), 'tensor "x": entry has no "data_offsets"');
    rejects(file({ x: { dtype: 7, shape: [2], data_offsets: [0, 8] } }, eight), 'tensor "x": dtype is number, not a string');
    rejects(file({ x: { dtype: 'F7', shape: [2], data_offsets: [0, 8] } }, eight), 'tensor "x": unknown dtype "F7"');
    rejects(file({ x: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, eight),
      'tensor "x": dtype F8_E4M3 is not supported (qkv reads F32, F16, BF16, F64, I64, U64, I32, U32, I16, U16, I8, U8, BOOL)');
    rejects(file({ x: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, eight), 'tensor "x": shape must be an array of non-negative integers, got [2,-1]');
    rejects(file({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, eight), 'tensor "x": shape must be an array of non-negative integers, got [1.5]');
    rejects(file({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight), 'tensor "x": data_offsets must be [begin, end] with 0 <= begin <= end, got [8,0]');
    rejects(file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, eight), 'tensor "x": data_offsets must be [begin, end] with 0 <= begin <= end, got [0,4,8]');
  });

  test('offsets that do not match the shape, or run past the buffer', () => {
    rejects(file({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)),
      'tensor "w": data_offsets [0, 20] hold 20 bytes, but shape [2, 3] of F32 needs 24');
    rejects(file({ w: { dtype: 'BF16', shape: [3], data_offsets: [0, 12] } }, new Uint8Array(12)),
      'tensor "w": data_offsets [0, 12] hold 12 bytes, but shape [3] of BF16 needs 6');
    rejects(file({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } }, new Uint8Array(16)),
      'tensor "w": data_offsets [0, 24] run past the end of the 16-byte data buffer');
  });

  test('the tensors must tile the data buffer: overlap, hole, late start, trailing bytes', () => {
    const two = (b: number[], a2: number[], len: number): Uint8Array => file({
      a: { dtype: 'F32', shape: [2], data_offsets: b },
      b: { dtype: 'F32', shape: [2], data_offsets: a2 },
    }, new Uint8Array(len));
    rejects(two([0, 8], [4, 12], 12), 'tensor "b" starts at byte 4 of the data buffer but the previous tensor "a" ends at byte 8 (4 bytes overlap)');
    rejects(two([0, 8], [0, 8], 8), 'tensor "b" starts at byte 0 of the data buffer but the previous tensor "a" ends at byte 8 (8 bytes overlap)');
    rejects(two([0, 8], [12, 20], 20), 'tensor "b" starts at byte 12 of the data buffer but the previous tensor "a" ends at byte 8 (a hole of 4 bytes)');
    rejects(file({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
      'tensor "a" starts at byte 4 of the data buffer but the data buffer starts at byte 0 (a hole of 4 bytes)');
    rejects(file({ a: f32x2 }, new Uint8Array(11)), 'the data buffer is 11 bytes but the tensors cover only 8 (3 bytes not in any tensor)');
    rejects(file({}, new Uint8Array(3)), 'the data buffer is 3 bytes but the tensors cover only 0 (3 bytes not in any tensor)');
  });

  test('metadata must be an object of strings', () => {
    rejects(file({ __metadata__: { epoch: 3 }, x: f32x2 }, eight), '__metadata__ value of "epoch" is number (3), not a string');
    rejects(file({ __metadata__: { ok: 'yes', nested: { a: 'b' } } }), '__metadata__ value of "nested" is object ({"a":"b"}), not a string');
    rejects(file({ __metadata__: 'v1' }), '__metadata__ must be an object of strings, got string');
  });

  test('a failed parse frees what it had allocated', () => {
    const before = memory().tensors;
    const good = bytesOf(2, 4, () => {});
    const bad = bytesOf(1, 8, (v, o) => v.setBigInt64(o, 2n ** 40n, true));
    const bytes = file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'I64', shape: [1], data_offsets: [8, 16] } }, new Uint8Array([...good, ...bad]));
    rejects(bytes, `tensor "b": I64 value ${2 ** 40} at flat index 0 does not fit in int32`);
    assert.equal(memory().tensors, before);
  });
});

describe('a file written from PyTorch (scripts/golden.py)', () => {
  interface Expected { dtype: string; shape: number[]; values: (number | string)[] }
  const dir = join(repoRoot(), 'test', 'fixtures');
  const sidecar = JSON.parse(readFileSync(join(dir, 'torch-written.json'), 'utf8')) as { metadata: Record<string, string>; tensors: Record<string, Expected> };

  test('every tensor and the metadata read back exactly', () => {
    const { tensors, metadata } = loadSafetensors(join(dir, 'torch-written.safetensors'));
    assert.deepEqual(metadata, sidecar.metadata);
    assert.deepEqual([...tensors.keys()].sort(), Object.keys(sidecar.tensors).sort());
    const dtypes = new Set<string>();
    for (const [name, want] of Object.entries(sidecar.tensors)) {
      const t = tensors.get(name)!;
      dtypes.add(want.dtype);
      assert.deepEqual(t.shape, want.shape, `${name} shape`);
      assert.equal(t.dtype, /^(F|BF)/.test(want.dtype) ? 'float32' : 'int32', `${name} dtype`);
      const expected = want.values.map((v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number)));
      sameFloats(t.toTypedArray(), expected, name);
    }
    for (const d of ['F32', 'F16', 'BF16', 'I64', 'I32']) assert.ok(dtypes.has(d), `the fixture has ${d}`);
    disposeAll(tensors);
  });
});

describe('safetensors files', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qkv-safetensors-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const temps = (): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-'));

  test('save then load', () => {
    const path = join(dir, 'rt.safetensors');
    const a = randn([3, 5], { generator: new Generator(1) });
    const ids = tensor(Int32Array.from([3, 1, 4]), { shape: [3] });
    saveSafetensors(path, { a, ids }, { step: '12' });
    assert.deepEqual(readFileSync(path), Buffer.from(serializeSafetensors({ a, ids }, { step: '12' })));
    const { tensors, metadata } = loadSafetensors(path);
    assert.deepEqual(metadata, { step: '12' });
    sameFloats(tensors.get('a')!.toTypedArray(), a.toTypedArray(), 'a');
    assert.deepEqual(tensors.get('ids')!.toArray(), [3, 1, 4]);
    disposeAll(tensors);
    a.dispose();
    ids.dispose();
    assert.deepEqual(temps(), []);
  });

  test('missing files and bad paths: one line naming the path', () => {
    const missing = join(dir, 'nope.safetensors');
    assert.throws(() => loadSafetensors(missing), { name: 'SafetensorsError', message: `${missing}: cannot read: no such file or directory (ENOENT)` });
    assert.throws(() => loadSafetensors(dir), { name: 'SafetensorsError', message: `${dir}: cannot read: is a directory (EISDIR)` });
    const corrupt = join(dir, 'corrupt.safetensors');
    writeFileSync(corrupt, 'abc');
    assert.throws(() => loadSafetensors(corrupt), { name: 'SafetensorsError', message: `${corrupt}: file is 3 bytes, too short for the 8-byte header length` });
    const t = tensor([1]);
    const noDir = join(dir, 'no', 'such', 'dir', 'x.safetensors');
    assert.throws(() => saveSafetensors(noDir, { t }), {
      name: 'SafetensorsError', message: `${noDir}: cannot create a temporary file for x.safetensors: no such file or directory (ENOENT)`,
    });
    t.dispose();
  });

  test('atomic save: a failure before, during or at the rename leaves the old file intact and no temp file', () => {
    const path = join(dir, 'model.safetensors');
    const old = tensor([1, 2, 3]);
    saveSafetensors(path, { old });
    const before = readFileSync(path);

    // 1. refused before anything is written (metadata value not a string)
    assert.throws(() => saveSafetensors(path, { old }, { epoch: 1 } as any), {
      name: 'SafetensorsError', message: `${path}: metadata value of "epoch" is number (1), not a string`,
    });
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(temps(), []);

    // 2. fails half way through writing: the header and the first tensor are in the temp file
    const first = randn([64]);
    const broken = tensor([4, 5]);
    Object.defineProperty(broken, 'toTypedArray', { value: () => { throw new Error('simulated failure while writing'); } });
    assert.throws(() => saveSafetensors(path, { a: first, z: broken }), { message: 'simulated failure while writing' });
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(temps(), []);

    // 3. the rename fails (the target is a non-empty directory): the temp file is removed
    const blocked = join(dir, 'blocked.safetensors');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'keep'), 'x');
    assert.throws(() => saveSafetensors(blocked, { old }), (e: unknown) => {
      assert.ok(e instanceof SafetensorsError);
      assert.match(e.message, new RegExp(`^${blocked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot (?:replace|write) blocked\\.safetensors: .*\\((EISDIR|ENOTEMPTY|EEXIST)\\)$`));
      return true;
    });
    assert.deepEqual(readdirSync(blocked), ['keep']);
    assert.deepEqual(temps(), []);

    // and a successful save replaces it
    saveSafetensors(path, { a: first });
    const { tensors } = loadSafetensors(path);
    assert.deepEqual([...tensors.keys()], ['a']);
    disposeAll(tensors);
    for (const t of [old, first, broken]) t.dispose();
  });
});

const tinyGPT = (seed: number): nn.GPT => new nn.GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 4, generator: new Generator(seed) });

describe('module state dicts through safetensors files', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qkv-statedict-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('nn.Linear and nn.LayerNorm: save, load into a fresh module with another seed, equal outputs', () => {
    const start = memory().tensors;
    const x = randn([2, 4], { generator: new Generator(7) });
    for (const make of [
      (seed: number) => new nn.Linear(4, 3, { generator: new Generator(seed) }),
      (seed: number) => {
        const ln = new nn.LayerNorm(4);
        noGrad(() => {
          const w = randn([4], { generator: new Generator(seed) });
          const b = randn([4], { generator: new Generator(seed + 100) });
          assign(ln.weight!, w);
          assign(ln.bias!, b);
          w.dispose();
          b.dispose();
        });
        return ln;
      },
    ]) {
      const a = make(1);
      const b = make(2);
      const path = join(dir, `${a.kind}.safetensors`);
      const ya = a.forward(x);
      const yb = b.forward(x);
      assert.notDeepEqual(Array.from(ya.toTypedArray()), Array.from(yb.toTypedArray()), `${a.kind}: different seeds differ`);
      saveStateDict(a, path, { model: a.kind });
      const saved = loadSafetensors(path);
      assert.deepEqual(saved.metadata, { model: a.kind });
      disposeAll(saved.tensors);
      const result = loadStateDictFile(b, path);
      assert.deepEqual(result, { missing: [], unexpected: [] });
      const yb2 = b.forward(x);
      sameFloats(yb2.toTypedArray(), ya.toTypedArray(), `${a.kind} output after load`);
      for (const t of [ya, yb, yb2]) t.dispose();
      a.dispose();
      b.dispose();
    }
    x.dispose();
    assert.equal(memory().tensors, start, 'every tensor read from a file was freed');
  });

  test('strict load: missing key, misshaped key (the message names the key and shapes), non-strict', () => {
    const path = join(dir, 'nobias.safetensors');
    const noBias = new nn.Linear(4, 3, { bias: false });
    saveStateDict(noBias, path);
    const withBias = new nn.Linear(4, 3);
    const before = withBias.weight.toTypedArray();
    const tensorsBefore = memory().tensors;
    assert.throws(() => loadStateDictFile(withBias, path), {
      name: 'ModuleError', message: 'Linear: cannot load state dict: missing keys: "bias" [3]',
    });
    assert.equal(memory().tensors, tensorsBefore, 'the tensors read from the file are freed on error');
    sameFloats(withBias.weight.toTypedArray(), before, 'nothing changed');
    assert.deepEqual(loadStateDictFile(withBias, path, { strict: false }), { missing: ['bias'], unexpected: [] });
    sameFloats(withBias.weight.toTypedArray(), noBias.weight.toTypedArray(), 'non-strict load copies what is there');

    const wide = new nn.Linear(5, 3);
    assert.throws(() => loadStateDictFile(wide, path, { strict: false }), {
      name: 'ModuleError', message: 'Linear: cannot load state dict: "weight" has shape [3, 4] in the state dict, [3, 5] in the model',
    });
    assert.throws(() => loadStateDictFile(wide, join(dir, 'absent.safetensors')), {
      name: 'SafetensorsError', message: `${join(dir, 'absent.safetensors')}: cannot read: no such file or directory (ENOENT)`,
    });
    for (const m of [noBias, withBias, wide]) m.dispose();
  });

  test('GPT (tied lm_head/wte): written under both names, loaded back into the one tensor; one name is enough; disagreeing copies are refused', () => {
    const start = memory().tensors;
    const idx = tensor(Int32Array.from([1, 5, 2, 6]), { shape: [1, 4] });
    const a = tinyGPT(1);
    const own = a.stateDict();
    assert.equal(own.get('transformer.wte.weight'), own.get('lm_head.weight'), 'tied in the model');
    const path = join(dir, 'gpt.safetensors');
    saveStateDict(a, path, { config: JSON.stringify(a.config) });
    const saved = loadSafetensors(path).tensors;
    assert.deepEqual([...saved.keys()].sort(), [...own.keys()].sort(), 'every name, lm_head.weight included');
    sameFloats(saved.get('lm_head.weight')!.toTypedArray(), a.transformer.wte.weight.toTypedArray(), 'lm_head copy');

    const b = tinyGPT(2);
    const ya = a.forward(idx).logits;
    const yb = b.forward(idx).logits;
    assert.notDeepEqual(Array.from(yb.toTypedArray()), Array.from(ya.toTypedArray()));
    assert.deepEqual(loadStateDictFile(b, path), { missing: [], unexpected: [] });
    const yb2 = b.forward(idx).logits;
    sameFloats(yb2.toTypedArray(), ya.toTypedArray(), 'GPT logits after load');
    assert.equal(b.lm_head.weight, b.transformer.wte.weight, 'still tied');

    // only one of the names (as safetensors.torch.save_model writes a tied model)
    const onePath = join(dir, 'gpt-one.safetensors');
    saveSafetensors(onePath, new Map([...saved].filter(([k]) => k !== 'lm_head.weight')));
    const c = tinyGPT(3);
    assert.deepEqual(loadStateDictFile(c, onePath), { missing: [], unexpected: [] });
    sameFloats(c.lm_head.weight.toTypedArray(), a.transformer.wte.weight.toTypedArray(), 'loaded from one name');

    const otherPath = join(dir, 'gpt-differ.safetensors');
    const other = randn([7, 4]);
    saveSafetensors(otherPath, new Map([...saved, ['lm_head.weight', other]]));
    assert.throws(() => loadStateDictFile(c, otherPath), {
      name: 'SafetensorsError',
      message: `${otherPath}: GPT: "transformer.wte.weight" and "lm_head.weight" are one tied tensor in the model but hold different values in the file ([7, 4])`,
    });
    disposeAll(saved);
    for (const t of [other, idx, ya, yb, yb2]) t.dispose();
    for (const m of [a, b, c]) m.dispose();
    assert.equal(memory().tensors, start, 'nothing leaked');
  });
});
