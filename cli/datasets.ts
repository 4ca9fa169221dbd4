// Where a command's examples come from: a file (format from the flag or the file's extension)
// or a built-in generated set.
import { data, readTextFile, type TaskName } from '../src/index.js';
import { UsageError } from './shared.js';

export type Format = 'conllu' | 'conll' | 'tsv' | 'frames' | 'graph';
export const FORMATS: readonly Format[] = ['conllu', 'conll', 'tsv', 'frames', 'graph'];

export function detectFormat(file: string, text: string, given?: string): Format {
  if (given && given !== 'auto') return given as Format;
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
}

/** Reads labelled examples of a task from a file. */
export function readExamples(task: TaskName, file: string, o: ReadOptions): unknown[] {
  const text = readTextFile(file);
  const format = detectFormat(file, text, o.format);
  const allowed: Record<TaskName, Format[]> = { tag: ['conllu', 'conll', 'frames', 'graph'], classify: ['tsv', 'frames', 'graph'], seq2seq: ['tsv'], lm: [] };
  if (!allowed[task].includes(format)) throw new UsageError(`${file}: format ${format} does not fit the ${task} task (use ${allowed[task].join(', ')})`);
  const mode = task === 'tag' ? 'tag' : 'classify';
  switch (format) {
    case 'conllu': return data.readConllu(text, file, { column: o.column ?? 'upos' });
    case 'conll': return data.readConll(text, file);
    case 'tsv': return task === 'seq2seq' ? data.readPairsTsv(text, file, { tokenize: o.tokenize ?? 'chars' }) : data.readClassifyTsv(text, file);
    case 'frames': return data.readFramesJsonl(text, file, { mode });
    case 'graph': return data.readGraphJsonl(text, file, { mode });
  }
}

/** A built-in set for a task, split train/dev (90/10) from its seed. */
export function builtinExamples(task: TaskName, name: string, n: number, seed: number): { train: unknown[]; dev: unknown[] } {
  const about = (data.BUILTIN_DATASETS as Record<string, { task: string }>)[name];
  if (!about) throw new UsageError(`--builtin: no built-in set "${name}" (choose from ${Object.keys(data.BUILTIN_DATASETS).join(', ')})`);
  if (about.task !== task) throw new UsageError(`--builtin ${name} is a ${about.task} set, not for ${task}`);
  const all = data.builtinDataset(name, { seed, n }) as unknown[];
  const [train, dev] = data.split(all, [0.9, 0.1], seed);
  return { train: train!, dev: dev! };
}
