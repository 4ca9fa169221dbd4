// Where a command's examples come from: a file (format from the flag or the file's extension)
// or a built-in generated set.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, readBinaryFile, readImageFolder, readImageList, readTextFile, resolveListPath, type TaskName } from '../src/index.js';
import { UsageError } from './shared.js';

export type Format = 'conllu' | 'conll' | 'tsv' | 'frames' | 'graph' | 'wav' | 'image';
export const FORMATS: readonly Format[] = ['conllu', 'conll', 'tsv', 'frames', 'graph', 'wav', 'image'];

const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };

/** The committed spoken-word set (scripts/make-spoken.mjs): data/spoken/list.tsv of the package. */
export const SPOKEN_LIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'spoken', 'list.tsv');

export function detectFormat(file: string, text: string, given?: string): Format {
  if (given && given !== 'auto') return given as Format;
  // a list whose first entry is a .wav path
  if (/^\ufeff?[^\t\n]+\.wav\t/i.test(text)) return 'wav';
  if (/^\ufeff?[^\t\n]+\.(png|jpe?g)\t/i.test(text)) return 'image';
  if (/\.conllu$/i.test(file)) return 'conllu';
  if (/\.(conll|iob|bio)$/i.test(file)) return 'conll';
  if (/\.tsv$/i.test(file)) return 'tsv';
  if (/\.jsonl?$/i.test(file)) return /"edges"\s*:/.test(text.slice(0, 10000)) ? 'graph' : 'frames';
  throw new UsageError(`${file}: cannot tell the format from the name; pass --format (${FORMATS.join(', ')})`);
}

export interface ReadOptions {
  format?: string;
  column?: 'upos' | 'xpos';
  tokenize?: 'chars' | 'words';
  /** For WAV lists: the log-mel front end (from the flags when training, the checkpoint after). */
  frontEnd?: data.FrontEnd;
}

/** The examples each task trains on, as its driver takes them. */
export interface ExampleOf { tag: data.TaggedExample; classify: data.ClassifiedExample; seq2seq: data.PairExample; lm: string }

/** Reads labelled examples of a task from a file. */
export function readExamples<T extends TaskName>(task: T, file: string, o: ReadOptions): ExampleOf[T][] {
  // the format table admits only this task's readers, each in the task's mode
  return readAny(task, file, o) as ExampleOf[T][];
}

function readAny(task: TaskName, file: string, o: ReadOptions): unknown[] {
  if (isDir(file)) {
    // a folder-per-label tree of images
    if (task !== 'classify') throw new UsageError(`${file}: a folder of images is a classify data set, not for ${task}`);
    if (o.frontEnd?.kind !== 'image') throw new UsageError(`${file}: is a directory (images: DIR/label/*.png; this model does not read images)`);
    return readImageFolder(file, o.frontEnd);
  }
  const text = readTextFile(file);
  // seq2seq reads one format: a name that says nothing (a pipe, /dev/fd/63) needs no --format
  const format = task === 'seq2seq' && (!o.format || o.format === 'auto') ? 'tsv' : detectFormat(file, text, o.format);
  const allowed: Record<TaskName, Format[]> = { tag: ['conllu', 'conll', 'frames', 'graph', 'wav'], classify: ['tsv', 'frames', 'graph', 'wav', 'image'], seq2seq: ['tsv'], lm: [] };
  if (!allowed[task].includes(format)) throw new UsageError(`${file}: format ${format} does not fit the ${task} task (use ${allowed[task].join(', ')})`);
  const mode = task === 'tag' ? 'tag' : 'classify';
  switch (format) {
    case 'conllu': return data.readConllu(text, file, { column: o.column ?? 'upos' });
    case 'conll': return data.readConll(text, file);
    case 'tsv': return task === 'seq2seq' ? data.readPairsTsv(text, file, { tokenize: o.tokenize ?? 'chars' }) : data.readClassifyTsv(text, file);
    case 'frames': return data.readFramesJsonl(text, file, { mode });
    case 'graph': return data.readGraphJsonl(text, file, { mode });
    case 'wav': {
      if (o.frontEnd && o.frontEnd.kind !== 'logmel') throw new UsageError(`${file}: a list of WAV files, but this model reads images`);
      return data.readWavList(text, file, { mode, frontEnd: o.frontEnd ?? data.audioFrontEnd(), load: (p) => readBinaryFile(p), resolve: resolveListPath });
    }
    case 'image': {
      if (o.frontEnd?.kind !== 'image') throw new UsageError(`${file}: a list of images, but this model does not read images`);
      return readImageList(text, file, o.frontEnd);
    }
  }
}

/** A built-in set for a task, split train/dev (90/10) from its seed. */
export function builtinExamples<T extends TaskName>(task: T, name: string, n: number, seed: number, o: ReadOptions = {}): { train: ExampleOf[T][]; dev: ExampleOf[T][] } {
  if (name === 'spoken') {
    if (task !== 'classify') throw new UsageError(`--builtin spoken is a classify set, not for ${task}`);
    if (!existsSync(SPOKEN_LIST)) throw new UsageError(`--builtin spoken: ${SPOKEN_LIST} is missing (make it with node scripts/make-spoken.mjs)`);
    const all = readAny('classify', SPOKEN_LIST, { ...o, format: 'wav' }) as ExampleOf[T][];
    const [train, dev] = data.split(all, [0.8, 0.2], seed);
    return { train: train!, dev: dev! };
  }
  const about = (data.BUILTIN_DATASETS as Record<string, { task: string }>)[name];
  if (!about) throw new UsageError(`--builtin: no built-in set "${name}" (choose from ${[...Object.keys(data.BUILTIN_DATASETS), 'spoken'].join(', ')})`);
  if (about.task !== task) throw new UsageError(`--builtin ${name} is a ${about.task} set, not for ${task}`);
  const all = data.builtinDataset(name, { seed, n }) as ExampleOf[T][]; // about.task === task
  const [train, dev] = data.split(all, [0.9, 0.1], seed);
  return { train: train!, dev: dev! };
}
