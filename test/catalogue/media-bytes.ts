// Bytes of WAV and PNG files built field by field, so a catalogue case can say exactly which
// field is wrong (a rate of 0, a declared size past the end, a palette, 100000×100000 pixels)
// without a fixture per case.
import { deflateSync } from 'node:zlib';

export interface WavFields {
  /** Format tag: 1 PCM, 3 float, 6 A-law, 7 µ-law, 0xfffe extensible. */
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  samples?: number;
  /** The data chunk's declared size (default: the real one). */
  declared?: number;
}

/** A WAV file: RIFF header, a 16-byte fmt chunk, a data chunk of a quiet sine. */
export function wavBytes(f: WavFields = {}): Buffer {
  const { format = 1, channels = 1, rate = 16000, bits = 16, samples = 1600 } = f;
  const width = Math.max(1, bits / 8);
  const dataBytes = Math.floor(samples * channels * width);
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8);
  b.write('fmt ', 12);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(format, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate >>> 0, 24);
  b.writeUInt32LE((rate * channels * width) % 2 ** 32, 28);
  b.writeUInt16LE((channels * width) & 0xffff, 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36);
  b.writeUInt32LE((f.declared ?? dataBytes) >>> 0, 40);
  if (bits === 16) for (let i = 0; i < samples * channels; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), 44 + i * 2);
  return b;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of bytes) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

export interface PngFields {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  bitDepth?: number;
  /** Palette entries (colour type 3), RGB triples. */
  palette?: [number, number, number][];
  /** Alpha per palette entry (tRNS). */
  alpha?: number[];
  /** Raw samples of each row (without the filter byte); default: zeros of the right length. */
  rows?: Uint8Array[];
  /** Write no IDAT at all (a header-only file). */
  noData?: boolean;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** A PNG with valid chunks and CRCs: IHDR, PLTE/tRNS when given, one IDAT, IEND. */
export function pngBytes(f: PngFields): Buffer {
  const depth = f.bitDepth ?? 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(f.width, 0);
  ihdr.writeUInt32BE(f.height, 4);
  ihdr[8] = depth;
  ihdr[9] = f.colorType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (f.palette) parts.push(chunk('PLTE', Buffer.from(f.palette.flat())));
  if (f.alpha) parts.push(chunk('tRNS', Buffer.from(f.alpha)));
  if (!f.noData) {
    const rowBytes = Math.ceil((f.width * CHANNELS[f.colorType]! * depth) / 8);
    const raw = Buffer.concat(Array.from({ length: f.height }, (_, y) => Buffer.concat([Buffer.from([0]), Buffer.from(f.rows?.[y] ?? new Uint8Array(rowBytes))])));
    parts.push(chunk('IDAT', deflateSync(raw)));
  }
  parts.push(chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** A baseline JPEG's SOF0 segment with other dimensions (the rest of the file as it was). */
export function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) break;
    const marker = b[i + 1]!;
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc2) {
      b.writeUInt16BE(height, i + 5);
      b.writeUInt16BE(width, i + 7);
      return b;
    }
    i += 2 + len;
  }
  throw new Error('no SOF segment');
}
