// What the visualizer accepts as one input: a sentence (words models), one JSON object of frames
// or of graph nodes and edges (frames models), a prompt (lm) or a source (seq2seq); and the
// input a model starts with.
import { dirname, join } from 'node:path';
import { data, decodeImage, QkvError, readBinaryFile, readTextFile, type InspectableModel, type Seq2SeqInput, type TaskInstance } from '../../src/index.js';
import { SPOKEN_LIST } from '../datasets.js';
import { frontEndOf } from '../media.js';
import { cliTask, sequenceInputs } from '../tasks.js';

/** One typed input -> the model's input; a QkvError says what is wrong with it. */
export function parseInput(m: InspectableModel, text: string, maxPositions: number): data.SequenceInput | Seq2SeqInput | string {
  const task = m.config.task;
  if (task === 'lm') {
    // a prompt is read as typed: a space or a newline is a character of a character model
    if (!text.length) throw new QkvError('the prompt is empty: type at least one character');
    return text;
  }
  if (!text.trim()) throw new QkvError('the input is empty: type at least one word');
  if (task === 'seq2seq') {
    const input = cliTask('seq2seq', 'viz').readInputs(text.replace(/[\r\n]+/g, ' '), 'input', m as unknown as TaskInstance)[0] as Seq2SeqInput;
    if (input.source.length > maxPositions) throw new QkvError(`the input has ${input.source.length} positions; at most ${maxPositions} (--max-positions)`);
    return input;
  }
  const one = 'featurizer' in m && m.featurizer.words ? text.replace(/\s+/g, ' ') : text;
  const input = sequenceInputs(one, 'input', m)[0] as data.SequenceInput;
  const n = (input.tokens ?? input.frames ?? []).length;
  if (n > maxPositions) throw new QkvError(`the input has ${n} positions; at most ${maxPositions} (--max-positions)`);
  const bad = input.edges?.find((e) => !Array.isArray(e) || e.length !== 2 || !e.every((x) => Number.isInteger(x) && x >= 0 && x < n));
  if (bad) throw new QkvError(`input: edge ${JSON.stringify(bad)} must join two node numbers from 0 to ${n - 1}`);
  return input;
}

/** A seq2seq pair as typed: `source => target` or `source<TAB>target` (the data files' form); a bare source has target null. */
export function splitPair(text: string): { source: string; target: string | null } {
  const m = /\t|\s*=>\s*/.exec(text);
  return m ? { source: text.slice(0, m.index), target: text.slice(m.index + m[0].length) } : { source: text, target: null };
}

/** An input to start with: the lecture's sentence, one example of the built-in set the model learned, an lm's first words ('' if none). */
export function defaultInput(task: unknown, meta: Record<string, unknown>): string {
  if (task === 'lm') return typeof meta.prompt === 'string' ? meta.prompt : '';
  if (task === 'seq2seq') {
    if (typeof meta.builtin !== 'string') return '';
    const e = (data.builtinDataset(meta.builtin, { seed: 12345, n: 1 }) as data.PairExample[])[0]!;
    return e.source.join(e.source.some((t) => t.length > 1) ? ' ' : '');
  }
  if (meta.builtin === 'ambiguity') return 'I saw a saw';
  if (meta.builtin === 'speech' || meta.builtin === 'graph') {
    const e = (data.builtinDataset(meta.builtin, { seed: 12345, n: 1 }) as data.TaggedExample[])[0]!;
    const round = (m: number[][]) => m.map((row) => row.map((x) => Number(x.toFixed(4))));
    return JSON.stringify(e.edges ? { nodes: round(e.frames!), edges: e.edges } : { frames: round(e.frames!) });
  }
  return '';
}

/** What files a model reads through its front end: WAV ('audio'), PNG/JPEG ('image'), or none (typed input). */
export function mediaOf(m: InspectableModel): 'audio' | 'image' | null {
  if (m.config.task !== 'tag' && m.config.task !== 'classify') return null;
  const fe = frontEndOf(m as unknown as TaskInstance);
  return fe ? (fe.kind === 'image' ? 'image' : 'audio') : null;
}

const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50;
const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8;
const isWav = (b: Uint8Array) => b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WAVE';

/** One WAV, PNG or JPEG file's bytes -> the model's input, through the front end saved with it (as `qkv predict` reads files); `name` starts every error. */
export function mediaInput(m: InspectableModel, bytes: Uint8Array, name: string, maxPositions: number): data.SequenceInput {
  const fe = frontEndOf(m as unknown as TaskInstance);
  if (!fe) throw new QkvError(`${name}: this model reads typed input, not files`);
  if (fe.kind === 'image') {
    if (!isPng(bytes) && !isJpeg(bytes)) throw new QkvError(`${name}: not a PNG or JPEG file (this model reads images)`);
    return { image: data.toImageInput(decodeImage(bytes, name), fe, name) };
  }
  if (!isWav(bytes)) throw new QkvError(`${name}: not a WAV file (this model reads audio)`);
  const frames = data.wavFeatures(bytes, name, fe);
  if (frames.length > maxPositions) throw new QkvError(`${name}: ${frames.length} frames; at most ${maxPositions} (--max-positions)`);
  return { frames };
}

/** A media file named on the command line (`--input clip.wav`), read as the page would. */
export function mediaFile(m: InspectableModel, path: string, maxPositions: number): data.SequenceInput {
  return mediaInput(m, readBinaryFile(path), path, maxPositions);
}

/**
 * The example a file-reading model opens on, from the built-in set it learned: the spoken set's
 * first recording (data/spoken), or the first image the shapes / relations generator draws.
 */
export function builtinExample(m: InspectableModel, meta: Record<string, unknown>, maxPositions: number): { name: string; input: data.SequenceInput } | null {
  if (!mediaOf(m)) return null;
  if (meta.builtin === 'spoken') {
    let first: string | undefined;
    try {
      first = readTextFile(SPOKEN_LIST).split(/\r?\n/).find((l) => l.trim())?.split('\t')[0];
    } catch {
      return null; // a package without data/spoken: the page still takes files
    }
    return first ? { name: `${first} (the built-in spoken set)`, input: mediaFile(m, join(dirname(SPOKEN_LIST), first), maxPositions) } : null;
  }
  if (meta.builtin === 'shapes' || meta.builtin === 'relations') {
    const e = (data.builtinDataset(meta.builtin, { seed: 12345, n: 1 }) as data.ClassifiedExample[])[0]!;
    return { name: `a generated ${meta.builtin} image (label ${e.label})`, input: { image: e.image! } };
  }
  return null;
}
