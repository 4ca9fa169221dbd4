// safetensors (Hugging Face's tensor file format), pure parse and serialize: no node:fs here,
// so this file also works in a browser. The file helpers are in safetensors-file.ts.
//
// Layout: 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON
//   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...}
// (possibly padded with trailing spaces); then the data buffer. Offsets are relative to the
// start of the data buffer; tensors are little-endian and row-major, and together they must
// cover the data buffer exactly, without holes or overlaps.
import { arrayFor, type DType } from '../core/dtype.js';
import { isDeviceBackend } from '../kernels/registry.js';
import { QkvError, shapeStr } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';

/** A malformed safetensors file, or something that cannot be written as one. The message starts with the source. */
export class SafetensorsError extends QkvError {
  override name = 'SafetensorsError';
  constructor(readonly source: string, message: string) {
    super(`${source}: ${message}`);
  }
}

export interface SafetensorsContents {
  /** Every tensor by name, in the order of the header. The caller owns (and disposes) them. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` entry ({} when absent). */
  metadata: Record<string, string>;
}

/** What each safetensors dtype becomes in qkv, and its item size. */
const READABLE: Record<string, { bytes: number; to: DType }> = {
  F32: { bytes: 4, to: 'float32' },
  F16: { bytes: 2, to: 'float32' },
  BF16: { bytes: 2, to: 'float32' },
  F64: { bytes: 8, to: 'float32' },
  I64: { bytes: 8, to: 'int32' },
  U64: { bytes: 8, to: 'int32' },
  I32: { bytes: 4, to: 'int32' },
  U32: { bytes: 4, to: 'int32' },
  I16: { bytes: 2, to: 'int32' },
  U16: { bytes: 2, to: 'int32' },
  I8: { bytes: 1, to: 'int32' },
  U8: { bytes: 1, to: 'int32' },
  BOOL: { bytes: 1, to: 'int32' },
};
/** Valid safetensors dtypes qkv does not read. */
const UNSUPPORTED = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const fmt = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a safetensors file's bytes. F32, F16, BF16 and F64 become float32 (F16 and BF16
 * exactly, F64 rounded); I32, I64, U32, U64, I16, U16, I8, U8 and BOOL become int32 (a value
 * outside int32 is an error naming the tensor). Every structural problem is a
 * SafetensorsError whose one-line message starts with `source`.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const fail = (message: string): never => {
    throw new SafetensorsError(source, message);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${kindOf(bytes)}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > bytes.length - 8) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow the length field)`);
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${String((e as Error).message).replace(/\s+/g, ' ')})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(`header is ${kindOf(header)}, not a JSON object`);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`__metadata__ must be an object of strings, got ${kindOf(info)}`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value of ${fmt(k)} is ${kindOf(v)} (${fmt(v)}), not a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor ${fmt(name)}`;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${where}: entry is ${kindOf(info)}, not an object`);
    const e = info as Record<string, unknown>;
    for (const key of ['dtype', 'shape', 'data_offsets']) if (!(key in e)) fail(`${where}: entry has no "${key}"`);
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string') fail(`${where}: dtype is ${kindOf(dtype)}, not a string`);
    const d = dtype as string;
    if (!Object.hasOwn(READABLE, d)) {
      fail(UNSUPPORTED.has(d)
        ? `${where}: dtype ${d} is not supported (qkv reads ${Object.keys(READABLE).join(', ')})`
        : `${where}: unknown dtype ${fmt(d)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${fmt(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      fail(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${fmt(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const need = dims.reduce((n, v) => n * v, 1) * READABLE[d]!.bytes;
    if (end - begin !== need) {
      fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ${shapeStr(dims)} of ${d} needs ${need}`);
    }
    if (end > dataLength) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${dataLength}-byte data buffer`);
    entries.push({ name, dtype: d, shape: dims, begin, end });
  }

  // The tensors must tile the data buffer: sorted by offset, each starts where the last ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | null = null;
  for (const e of byOffset) {
    if (e.begin !== covered) {
      const after = previous ? `the previous tensor ${fmt(previous.name)} ends at byte ${covered}` : 'the data buffer starts at byte 0';
      fail(`tensor ${fmt(e.name)} starts at byte ${e.begin} of the data buffer but ${after} `
        + `(${e.begin < covered ? `${covered - e.begin} bytes overlap` : `a hole of ${e.begin - covered} bytes`})`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) fail(`the data buffer is ${dataLength} bytes but the tensors cover only ${covered} (${dataLength - covered} bytes not in any tensor)`);

  const tensors = new Map<string, Tensor>();
  try {
    for (const e of entries) {
      const t = Tensor.empty(e.shape, READABLE[e.dtype]!.to);
      tensors.set(e.name, t);
      // decoded in place on a host backend; on a device, into a host array written in one transfer
      const device = isDeviceBackend(t.backend);
      const host = device ? arrayFor(t.dtype, t.size) : t.buffer();
      decode(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), host, fail);
      if (device) t.write(host);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

let halfTable: Uint32Array | null = null;

/** float32 bit patterns of all 65536 float16 values (exact: every half is a float). */
function halfToFloatBits(): Uint32Array {
  if (halfTable) return halfTable;
  halfTable = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) halfTable[h] = halfBitsToFloatBits(h);
  return halfTable;
}

/** IEEE binary16 bits -> binary32 bits: signed zeros, subnormals, infinities and NaN payloads kept. */
export function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let frac = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (frac << 13)) >>> 0; // inf / nan
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (frac << 13)) >>> 0; // rebias 15 -> 127
  if (frac === 0) return sign >>> 0; // +-0
  // subnormal half (frac * 2^-24): normalise so the leading 1 moves to bit 10
  let e = 113;
  while ((frac & 0x400) === 0) {
    frac <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((frac & 0x3ff) << 13)) >>> 0;
}

function decode(e: Entry, src: Uint8Array, out: Float32Array | Int32Array, fail: (m: string) => never): void {
  const n = out.length;
  if (n === 0) return;
  const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const tooBig = (i: number, value: bigint | number): never => fail(`tensor ${fmt(e.name)}: ${e.dtype} value ${value} at flat index ${i} does not fit in int32`);
  switch (e.dtype) {
    case 'F32':
    case 'I32':
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(src);
      else for (let i = 0; i < n; i++) out[i] = e.dtype === 'F32' ? v.getFloat32(4 * i, true) : v.getInt32(4 * i, true);
      return;
    case 'F16': {
      const table = halfToFloatBits();
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) bits[i] = table[v.getUint16(2 * i, true)]!;
      return;
    }
    case 'BF16': {
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(2 * i, true) << 16 >>> 0;
      return;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true);
      return;
    case 'I64':
    case 'U64':
      for (let i = 0; i < n; i++) {
        const lo = v.getUint32(8 * i, true);
        const hi = v.getUint32(8 * i + 4, true);
        const fits = (hi === 0 && lo < 0x80000000) || (e.dtype === 'I64' && hi === 0xffffffff && lo >= 0x80000000);
        if (!fits) tooBig(i, e.dtype === 'I64' ? v.getBigInt64(8 * i, true) : v.getBigUint64(8 * i, true));
        out[i] = lo | 0;
      }
      return;
    case 'U32':
      for (let i = 0; i < n; i++) {
        const x = v.getUint32(4 * i, true);
        if (x >= 0x80000000) tooBig(i, x);
        out[i] = x;
      }
      return;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true);
      return;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = v.getUint16(2 * i, true);
      return;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      return;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i);
      return;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i) === 0 ? 0 : 1;
      return;
  }
}

/** A serialization plan: the header bytes (length prefix included) and each tensor's place. */
export interface SafetensorsPlan {
  header: Uint8Array;
  entries: { name: string; tensor: Tensor; byteLength: number }[];
  /** Total file size in bytes. */
  size: number;
}

const SAFETENSORS_DTYPE: Record<DType, string> = { float32: 'F32', int32: 'I32' };

/**
 * Checks the tensors and metadata and lays out the file (names sorted, offsets contiguous,
 * header padded with spaces to a multiple of 8 bytes). Reads no tensor values.
 */
export function planSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> | undefined,
  source: string,
): SafetensorsPlan {
  const fail = (message: string): never => {
    throw new SafetensorsError(source, message);
  };
  if (typeof tensors !== 'object' || tensors === null) fail(`tensors must be a Map or an object, got ${kindOf(tensors)}`);
  const given = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  given.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) fail(`metadata must be an object of strings, got ${kindOf(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`metadata value of ${fmt(k)} is ${kindOf(v)} (${fmt(v)}), not a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const entries: SafetensorsPlan['entries'] = [];
  let offset = 0;
  for (const [name, t] of given) {
    if (typeof name !== 'string' || name === '') fail(`tensor names must be non-empty strings, got ${fmt(name)}`);
    if (name === '__metadata__') fail('"__metadata__" is reserved for the metadata and cannot name a tensor');
    if (!(t instanceof Tensor)) fail(`${fmt(name)} is ${kindOf(t)}, not a Tensor`);
    if (t.isDisposed) fail(`tensor ${fmt(name)} ${shapeStr(t.shape)} was disposed`);
    const byteLength = t.size * 4;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: SAFETENSORS_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + byteLength] })}`);
    entries.push({ name, tensor: t, byteLength });
    offset += byteLength;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  const view = new DataView(header.buffer);
  view.setUint32(0, padded % 2 ** 32, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  header.set(json, 8);
  return { header, entries, size: header.length + offset };
}

/** A tensor's values as little-endian bytes (a contiguous copy, so views are fine). */
export function tensorBytes(t: Tensor): Uint8Array {
  const values = t.toTypedArray();
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(values.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (values instanceof Float32Array) v.setFloat32(4 * i, values[i]!, true);
    else v.setInt32(4 * i, values[i]!, true);
  }
  return out;
}

/**
 * Writes tensors (float32 as F32, int32 as I32; any view, contiguous or not) and optional
 * string metadata as safetensors bytes: names sorted, offsets contiguous, the header padded
 * with spaces to a multiple of 8 bytes. A tensor stored under two names (a tied weight) is
 * written twice, once per name, as safetensors has no shared storage.
 */
export function serializeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const plan = planSafetensors(tensors, metadata, 'serializeSafetensors');
  const out = new Uint8Array(plan.size);
  out.set(plan.header, 0);
  let at = plan.header.length;
  for (const e of plan.entries) {
    out.set(tensorBytes(e.tensor), at);
    at += e.byteLength;
  }
  return out;
}
