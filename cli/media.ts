// Inputs a model reads through a front end (WAV files -> log-mel frames, PNG/JPEG -> images):
// `qkv predict` takes a file path (--input x.wav, --input x.png) or a list of paths (one per
// line, anything after a tab ignored), and reads each with the front end saved in the
// checkpoint. Training picks the image front end from the flags and the first image.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { data, decodeImage, imageFile, readBinaryFile, readTextFile, resolveListPath, type TaskInstance } from '../src/index.js';
import { UsageError } from './shared.js';
import { bytesText, checkSizes, memoryLimit } from './sizes.js';

/** The front end a checkpoint was trained with, if any. */
export function frontEndOf(instance: TaskInstance): data.FrontEnd | null {
  return (instance.config as { featurizer?: { frontEnd?: data.FrontEnd } }).featurizer?.frontEnd ?? null;
}

const isWav = (bytes: Uint8Array) => bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF';
const isImage = (bytes: Uint8Array) => (bytes[0] === 0x89 && bytes[1] === 0x50) || (bytes[0] === 0xff && bytes[1] === 0xd8);
const MEDIA = /\.(wav|png|jpe?g)$/i;

type MediaInput = { path: string; frames?: number[][]; image?: data.ImageInput };

/** The model's input from one media file, named in every error. */
function features(path: string, fe: data.FrontEnd): MediaInput {
  return fe.kind === 'image' ? { path, image: imageFile(path, fe) } : { path, frames: data.wavFeatures(readBinaryFile(path), path, fe) };
}

/** Inputs for predict: `--input` a media file or a list of paths (file or standard input). */
export function mediaInputs(input: string | undefined, readStdin: () => string, fe: data.FrontEnd): MediaInput[] {
  if (input) {
    const bytes = readBinaryFile(input, { allowEmpty: true });
    if (isWav(bytes) || isImage(bytes) || MEDIA.test(input)) return [features(input, fe)];
  }
  const text = input ? readTextFile(input) : readStdin();
  const list = input ?? '<stdin>';
  const paths = text.split(/\r?\n/).map((l) => l.split('\t')[0]!.trim()).filter((l) => l);
  if (!paths.length) throw new UsageError(`${list}: no input paths (this model reads ${fe.kind === 'image' ? 'images' : 'WAV files'}: give --input FILE or a list of paths)`);
  return paths.map((p) => features(input ? resolveListPath(input, p) : p, fe));
}

/** The first image of a list or folder tree (its size is the model's when --image-size is not given). */
function firstImage(source: string): string {
  if (statSync(source).isDirectory()) {
    for (const label of readdirSync(source).sort()) {
      const d = join(source, label);
      if (!statSync(d).isDirectory()) continue;
      const f = readdirSync(d).sort().find((n) => /\.(png|jpe?g)$/i.test(n));
      if (f) return join(d, f);
    }
    throw new UsageError(`${source}: no images (expected DIR/label/*.png or *.jpg)`);
  }
  const first = readTextFile(source).split(/\r?\n/).find((l) => l.trim());
  return resolveListPath(source, first!.split('\t')[0]!.trim());
}

/** The image front end from --image-size (resize to it) or else the first image's size, and --channels. */
export function imageFrontEndFor(source: string, o: Record<string, unknown>): data.ImageFrontEnd {
  const channels = Number(o.channels ?? 3) as 1 | 3;
  const size = o.imageSize as [number, number] | undefined;
  if (size) {
    checkImageSize(`--image-size ${size[0]}x${size[1]}`, size[0], size[1], channels);
    checkImageModel(size[0], size[1], o);
    return data.imageFrontEnd({ channels, height: size[0], width: size[1], resize: true });
  }
  const path = firstImage(source);
  const p = decodeImage(readBinaryFile(path), path);
  checkImageSize(`${path} (${p.height}x${p.width}, the size every image gets without --image-size)`, p.height, p.width, channels);
  checkImageModel(p.height, p.width, o);
  return data.imageFrontEnd({ channels, height: p.height, width: p.width });
}

/** The model on images of this size, checked before any image is read: the patches are the positions, attention holds positions² weights per head. */
function checkImageModel(height: number, width: number, o: Record<string, unknown>): void {
  const transformer = (o.model ?? 'transformer') === 'transformer';
  const patch = transformer ? Number(o.patch ?? 4) : 1;
  const positions = Math.ceil(height / patch) * Math.ceil(width / patch);
  const [d, layers, heads, batch] = [Number(o.dModel ?? 64), Number(o.layers ?? 2), Number(o.heads ?? 4), Number(o.batchSize ?? 32)];
  checkSizes({ '--image-size': `${height}x${width}`, ...(transformer ? { '--patch': patch } : {}), '--batch-size': batch },
    2 * layers * 12 * d * d, batch * layers * positions * (12 * d + (transformer ? 2 * heads * positions : 0)));
}

/**
 * Refuses an image size whose float32 pixels would not fit many times over: each image is held
 * as height × width × channels floats, a batch of them at once, and the model's activations on
 * top (the transformer's patches and attention are checked with the model flags).
 */
function checkImageSize(what: string, height: number, width: number, channels: number): void {
  const bytes = 4 * height * width * channels;
  const limit = memoryLimit() / 256;
  if (bytes > limit) {
    throw new UsageError(`${what}: one image is ${bytesText(bytes)} as float32 (${channels} channel${channels === 1 ? '' : 's'}), too large to train on here (at most ${bytesText(limit)} per image, so that a batch and the model fit in ${bytesText(memoryLimit())})`);
  }
}
