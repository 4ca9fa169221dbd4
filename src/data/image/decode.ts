// PNG and JPEG decoding (Node: pngjs and jpeg-js, both pure JavaScript) into Pixels, and the
// image lists and folder trees of the classify task. Every failure is one DataError naming
// the file.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { readBinaryFile, resolveListPath } from '../files.js';
import { fail, nonEmpty, numberedLines, origin } from '../text.js';
import { DataError } from '../errors.js';
import type { ClassifiedExample } from '../types.js';
import { type ImageFrontEnd, type Pixels, toImageInput } from './pixels.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8];
const starts = (b: Uint8Array, m: number[]) => b.length >= m.length && m.every((v, i) => b[i] === v);

/**
 * The most pixels an image may declare (32 megapixels: a 7000×4500 photo). Decoding holds 4
 * float32 values per pixel, so the dimensions in the header are checked before anything of
 * their size is allocated.
 */
export const MAX_IMAGE_PIXELS = 32 * 1024 * 1024;

/** Width and height from a PNG's IHDR or a JPEG's SOF segment (null when the header does not say). */
function declaredSize(b: Uint8Array): [number, number] | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (starts(b, PNG_MAGIC)) return b.length >= 24 ? [view.getUint32(16), view.getUint32(20)] : null;
  for (let i = 2; i + 9 <= b.length && b[i] === 0xff;) {
    const marker = b[i + 1]!;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return [view.getUint16(i + 7), view.getUint16(i + 5)];
    i += 2 + view.getUint16(i + 2);
  }
  return null;
}

/** Decodes a PNG or JPEG file's bytes (told apart by their first bytes) to RGBA Pixels. */
export function decodeImage(bytes: Uint8Array, file: string): Pixels {
  if (bytes.length === 0) throw new DataError(file, null, 'file is empty');
  const size = declaredSize(bytes);
  if (size && size[0] * size[1] > MAX_IMAGE_PIXELS) {
    throw new DataError(file, null, `${size[0]}×${size[1]} pixels: at most ${MAX_IMAGE_PIXELS / 1024 / 1024} megapixels an image (resize it first)`);
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let rgba: { width: number; height: number; data: Uint8Array | Uint16Array };
  if (starts(bytes, PNG_MAGIC)) {
    try {
      // 16-bit PNGs keep their 16 bits (skipRescale), scaled to [0, 1] below
      const png = PNG.sync.read(buf, { skipRescale: true });
      rgba = { width: png.width, height: png.height, data: png.data as unknown as Uint8Array | Uint16Array }; // Uint16Array when 16-bit
    } catch (e) {
      throw new DataError(file, null, `corrupt PNG (${(e as Error).message})`);
    }
  } else if (starts(bytes, JPEG_MAGIC)) {
    try {
      rgba = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    } catch (e) {
      throw new DataError(file, null, `corrupt JPEG (${String((e as Error).message ?? e)})`);
    }
  } else {
    throw new DataError(file, null, 'not a PNG or JPEG image');
  }
  const n = rgba.width * rgba.height * 4;
  if (rgba.width < 1 || rgba.height < 1 || rgba.data.length < n) throw new DataError(file, null, 'corrupt image (no pixel data)');
  const scale = rgba.data instanceof Uint16Array ? 65535 : 255;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rgba.data[i]! / scale;
  return { width: rgba.width, height: rgba.height, channels: 4, data };
}

/** One image file through a front end. */
export function imageFile(path: string, fe: ImageFrontEnd) {
  return toImageInput(decodeImage(readBinaryFile(path), path), fe, path);
}

/** `path<TAB>label` rows of image files (paths relative to the list's folder). */
export function readImageList(text: string, file: string, fe: ImageFrontEnd): ClassifiedExample[] {
  const out: ClassifiedExample[] = [];
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const [path, label, ...rest] = raw.split('\t').map((s) => s.trim());
    if (label === undefined) fail(file, line, 'no tab: expected path<TAB>label');
    if (rest.length) fail(file, line, `expected path<TAB>label, found ${rest.length + 2} tab-separated fields`);
    if (!path || !label) fail(file, line, !path ? 'empty path' : 'empty label');
    out.push({ image: imageFile(resolveListPath(file, path), fe), label, origin: origin(file, line) });
  }
  return nonEmpty(out, file);
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** A folder-per-label tree: DIR/label/*.png|jpg (sorted; other files ignored). */
export function readImageFolder(dir: string, fe: ImageFrontEnd): ClassifiedExample[] {
  const out: ClassifiedExample[] = [];
  const labels = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  if (!labels.length) throw new DataError(dir, null, 'no label folders (expected DIR/label/image.png)');
  for (const label of labels) {
    for (const f of readdirSync(join(dir, label)).filter((f) => IMAGE_FILE.test(f)).sort()) {
      const path = join(dir, label, f);
      out.push({ image: imageFile(path, fe), label, origin: { file: relative('.', path) || path, line: 1 } });
    }
  }
  return nonEmpty(out, dir, 'images');
}

/** Pixels (values in [0, 1], 1/3/4 channels) as PNG bytes, 8-bit RGBA. */
export function encodePng(p: Pixels): Uint8Array {
  const png = new PNG({ width: p.width, height: p.height });
  for (let i = 0; i < p.width * p.height; i++) {
    const px = p.data.subarray(i * p.channels, (i + 1) * p.channels);
    const rgb = p.channels >= 3 ? [px[0]!, px[1]!, px[2]!] : [px[0]!, px[0]!, px[0]!];
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = Math.round(Math.max(0, Math.min(1, rgb[c]!)) * 255);
    png.data[i * 4 + 3] = p.channels === 4 ? Math.round(px[3]! * 255) : 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
