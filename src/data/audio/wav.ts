// WAV (RIFF) files: PCM 8/16/24/32-bit integer and 32-bit IEEE float, any channel count and
// sample rate, plain or WAVE_FORMAT_EXTENSIBLE. Samples come out as float32 in [-1, 1]
// (integers divided by 2^(bits-1); 8-bit is unsigned around 128, as the format says).
// Anything else (µ-law, A-law, ADPCM, 64-bit float, a truncated header) is one DataError
// line naming the file. Pure: bytes in, so it works in browsers too.
import { DataError } from '../errors.js';

export interface Wav {
  sampleRate: number;
  /** Channels of the file (the samples below may be mixed to one). */
  channels: number;
  bitsPerSample: number;
  encoding: 'pcm' | 'float';
  /** One Float32Array per channel, each of `frames` samples in [-1, 1]. */
  data: Float32Array[];
}

const FORMAT_NAMES: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'µ-law', 0x11: 'IMA ADPCM', 0x50: 'MPEG', 0x55: 'MP3' };

/** Parses a WAV file's bytes; `file` names it in errors. */
export function parseWav(bytes: Uint8Array, file: string): Wav {
  const fail = (detail: string): never => { throw new DataError(file, null, detail); };
  if (bytes.length === 0) fail('file is empty');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12) fail(`truncated WAV header (${bytes.length} bytes, a RIFF header needs 12)`);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') fail(tag(0) === 'RIFX' ? 'big-endian WAV (RIFX) is not supported' : 'not a WAV file (no RIFF/WAVE header)');
  let fmt: { format: number; channels: number; rate: number; align: number; bits: number } | null = null;
  let data: { at: number; size: number } | null = null;
  for (let at = 12; at + 8 <= bytes.length && !data;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) fail('truncated WAV header (the fmt chunk is cut short)');
      let format = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      if (format === 0xfffe) {
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID
        if (size < 40 || body + 40 > bytes.length) fail('truncated WAV header (the extensible fmt chunk is cut short)');
        format = view.getUint16(body + 24, true);
      }
      fmt = { format, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), align: view.getUint16(body + 12, true), bits };
    } else if (id === 'data') {
      if (!fmt) fail('the data chunk comes before the fmt chunk');
      data = { at: body, size: Math.min(size, bytes.length - body) };
    }
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  if (!fmt) fail('truncated WAV header (no fmt chunk)');
  if (!data) fail('no data chunk');
  const { format, channels, rate, bits } = fmt!;
  if (format !== 1 && format !== 3) fail(`unsupported WAV encoding ${FORMAT_NAMES[format] ?? `format tag ${format}`} (qkv reads PCM 8/16/24/32-bit and 32-bit float)`);
  if (format === 3 && bits !== 32) fail(`unsupported WAV encoding ${bits}-bit float (qkv reads 32-bit float)`);
  if (format === 1 && ![8, 16, 24, 32].includes(bits)) fail(`unsupported WAV encoding ${bits}-bit PCM (qkv reads 8, 16, 24 and 32 bits)`);
  if (channels < 1) fail('the fmt chunk says 0 channels');
  if (rate < 1) fail('the fmt chunk says a sample rate of 0');
  const width = bits / 8;
  const frames = Math.floor(data!.size / (width * channels));
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const base = data!.at;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const p = base + (i * channels + c) * width;
      let v: number;
      if (format === 3) v = view.getFloat32(p, true);
      else if (bits === 8) v = (bytes[p]! - 128) / 128;
      else if (bits === 16) v = view.getInt16(p, true) / 32768;
      else if (bits === 24) v = ((bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16)) << 8 >> 8) / 8388608;
      else v = view.getInt32(p, true) / 2147483648;
      out[c]![i] = v;
    }
  }
  return { sampleRate: rate, channels, bitsPerSample: bits, encoding: format === 3 ? 'float' : 'pcm', data: out };
}

/** The channels averaged into one (a mono file's own samples). */
export function toMono(wav: Wav): Float32Array {
  if (wav.data.length === 1) return wav.data[0]!;
  const n = wav.data[0]!.length;
  const out = new Float32Array(n);
  for (const ch of wav.data) for (let i = 0; i < n; i++) out[i]! += ch[i]!;
  for (let i = 0; i < n; i++) out[i]! /= wav.data.length;
  return out;
}

/**
 * A WAV file's bytes: `channels` (each the same length, values in [-1, 1]) as 8/16/24/32-bit
 * PCM (rounded, clipped) or 32-bit float. Used by tests and to write generated sets.
 */
export function encodeWav(channels: readonly Float32Array[], sampleRate: number, options: { bits?: 8 | 16 | 24 | 32; float?: boolean } = {}): Uint8Array {
  const float = options.float ?? false;
  const bits = float ? 32 : options.bits ?? 16;
  const width = bits / 8;
  const n = channels[0]?.length ?? 0;
  const C = channels.length;
  const size = n * C * width;
  const bytes = new Uint8Array(44 + size + (size & 1));
  const view = new DataView(bytes.buffer);
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i); };
  put(0, 'RIFF'); view.setUint32(4, bytes.length - 8, true); put(8, 'WAVE');
  put(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, float ? 3 : 1, true); view.setUint16(22, C, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * C * width, true); view.setUint16(32, C * width, true); view.setUint16(34, bits, true);
  put(36, 'data'); view.setUint32(40, size, true);
  const full = 2 ** (bits - 1);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const p = 44 + (i * C + c) * width;
      const x = channels[c]![i]!;
      if (float) { view.setFloat32(p, x, true); continue; }
      const q = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
      if (bits === 8) bytes[p] = q + 128;
      else if (bits === 16) view.setInt16(p, q, true);
      else if (bits === 24) { bytes[p] = q & 255; bytes[p + 1] = (q >> 8) & 255; bytes[p + 2] = (q >> 16) & 255; }
      else view.setInt32(p, q, true);
    }
  }
  return bytes;
}
