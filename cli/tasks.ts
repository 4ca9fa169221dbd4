// The command line's view of each task: its driver, how `qkv predict` reads inputs, and how
// it prints outputs. The seq2seq and lm tasks add their entries here.
import { classifyDriver, data, tagDriver, type TaskDriver, type TaskInstance, type TaskName } from '../src/index.js';
import { lmDriver, readTextFile } from '../src/index.js';
import { readCheckpointConfig, resolveCheckpoint, seq2seqDriver } from '../src/index.js';
import { readExamples } from './datasets.js';
import { UsageError } from './shared.js';

export interface CliTask {
  driver: TaskDriver<TaskInstance, unknown, unknown, unknown>;
  /** Labelled examples for `qkv eval`. */
  readLabelled(file: string, o: Record<string, unknown>): unknown[];
  /** Inputs for `qkv predict`: from a file of one input per line (or JSONL for frames/graphs). */
  readInputs(text: string, file: string, instance: TaskInstance): unknown[];
  /** An error of evaluate() restated with the data file's name, when the task can. */
  evaluateError?(e: unknown, file: string): unknown;
  /** `qkv predict`: a line with no input (default: only whitespace); it gets an empty output line. */
  isBlank?(line: string): boolean;
  /** `qkv predict`: warns on stderr about inputs the model can only guess at (lines: the non-blank ones, with their numbers). */
  checkInputs?(inputs: readonly unknown[], lines: readonly string[], numbers: readonly number[], file: string, instance: TaskInstance): void;
  /** Set when `qkv predict` does not apply to this task: the message says what to use. */
  refusePredict?: string;
  /** One output line (human) and one JSON value (for --json). */
  format(input: unknown, output: unknown): { line: string; json: unknown };
}

/** Plain text: one sequence per line, words split on whitespace; JSONL lines read as frames/graphs. */
export function sequenceInputs(text: string, file: string, instance: TaskInstance): unknown[] {
  const featurizer = (instance.config as unknown as { featurizer: { kind: string; frameDim?: number } }).featurizer;
  // frames and graphs: the training readers' own checks, plus the model's input size
  if (featurizer.kind === 'frames') return data.readInputsJsonl(text, file, { dim: featurizer.frameDim });
  const lines = text.split(/\r?\n/).map((l, i) => [l.trim(), i + 1] as const).filter(([l]) => l);
  if (!lines.length) throw new UsageError(`${file}: no input lines`);
  // a JSONL frames/graph file given to a model of words would be tagged as JSON text
  for (const [l, n] of lines) {
    const key = jsonInputKey(l);
    if (key) throw new UsageError(`${file}:${n}: a JSON object with "${key}", but this model reads text (one sentence per line), not ${key}`);
  }
  return lines.map(([l]) => ({ tokens: l.split(/\s+/) }));
}

/** "frames" or "nodes" when `line` is a JSON object holding them (a frames/graph input), else null. */
function jsonInputKey(line: string): string | null {
  if (!line.startsWith('{') || !line.endsWith('}')) return null;
  try {
    const obj = JSON.parse(line) as unknown;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return null;
    return 'frames' in obj ? 'frames' : 'nodes' in obj ? 'nodes' : null;
  } catch {
    return null;
  }
}

/** seq2seq: tokens of each source that the model's source vocabulary lacks (read as <unk>), named on stderr per line. */
function seq2seqUnknown(inputs: readonly unknown[], _lines: readonly string[], numbers: readonly number[], file: string, instance: TaskInstance): void {
  const vocab = (instance as unknown as { source: { encode(t: readonly string[]): Int32Array; decode(ids: ArrayLike<number>): string[] } }).source;
  const known = new Map<string, boolean>();
  inputs.forEach((input, i) => {
    const unknown = new Set<string>();
    for (const tok of (input as { source: string[] }).source) {
      let ok = known.get(tok);
      if (ok === undefined) {
        const back = vocab.decode(vocab.encode([tok]));
        ok = back.length === 1 && back[0] === tok;
        known.set(tok, ok);
      }
      if (!ok) unknown.add(tok);
    }
    if (unknown.size) {
      const names = [...unknown].slice(0, 8).map((x) => JSON.stringify(x)).join(', ') + (unknown.size > 8 ? `, ... (${unknown.size})` : '');
      process.stderr.write(`qkv: ${file}:${numbers[i]}: ${names} ${unknown.size === 1 ? 'is' : 'are'} not in the model's source vocabulary (read as <unk>): this line's output is a guess\n`);
    }
  });
}

/** seq2seq: how the checkpoint in --model splits text (its config's tokenize). */
function seq2seqTokenize(model: string): 'chars' | 'words' {
  return readCheckpointConfig(resolveCheckpoint(model)).tokenize === 'words' ? 'words' : 'chars';
}

/** seq2seq: one source per line (before a tab, if any), split as the model was trained. */
function seq2seqInputs(text: string, file: string, instance: TaskInstance): unknown[] {
  const words = (instance.config as { tokenize?: string }).tokenize === 'words';
  const lines = text.split(/\r?\n/).map((l) => l.split('\t')[0]!.trim()).filter((l) => l);
  if (!lines.length) throw new UsageError(`${file}: no input lines`);
  return lines.map((l) => ({ source: words ? l.split(/\s+/) : Array.from(l), text: l, sep: words ? ' ' : '' }));
}

export const CLI_TASKS: Partial<Record<TaskName, CliTask>> = {
  tag: {
    driver: tagDriver,
    readLabelled: (f, o) => readExamples('tag', f, { format: o.format as string, column: o.column as 'upos' | 'xpos', frontEnd: o.frontEnd as data.FrontEnd | undefined }),
    readInputs: sequenceInputs,
    format: (input, output) => {
      const tags = output as string[];
      const tokens = (input as { tokens?: string[] }).tokens;
      const path = (input as { path?: string }).path;
      if (path) return { line: `${path}\t${tags.join(' ')}`, json: { path, tags } };
      return { line: tokens ? tokens.map((w, i) => `${w}/${tags[i]}`).join(' ') : tags.join(' '), json: tokens ? { tokens, tags } : { tags } };
    },
  },
  classify: {
    driver: classifyDriver,
    readLabelled: (f, o) => readExamples('classify', f, { format: o.format as string, frontEnd: o.frontEnd as data.FrontEnd | undefined }),
    readInputs: sequenceInputs,
    format: (input, output) => {
      const path = (input as { path?: string }).path; // a media file: name it, not its frames
      return path ? { line: `${path}\t${String(output)}`, json: { path, label: output } } : { line: String(output), json: { ...(input as object), label: output } };
    },
  },
  // seq2seq: eval reads source<TAB>target pairs; predict prints each output joined like its input
  seq2seq: {
    driver: seq2seqDriver,
    readLabelled: (f, o) => readExamples('seq2seq', f, { format: o.format as string, tokenize: seq2seqTokenize(o.model as string) }),
    readInputs: seq2seqInputs,
    isBlank: (l) => l.split('\t')[0]!.trim() === '',
    checkInputs: seq2seqUnknown,
    format: (input, output) => {
      const { text, sep } = input as { text: string; sep: string };
      const out = (output as string[]).join(sep);
      return { line: out, json: { source: text, output: out } };
    },
  },
  // lm: `qkv eval --data FILE` scores the whole text (non-overlapping block-size windows, every
  // token predicted once: loss, perplexity, bits per token); text comes from `qkv generate`
  lm: {
    driver: lmDriver,
    readLabelled: (f) => [readTextFile(f)],
    // the driver names a character outside the vocabulary by line and column of the text: say which file
    evaluateError: (e, file) => {
      const m = /^lm: the text has (.*) at position \d+ \(line (\d+), column (\d+)\), (.*)$/.exec((e as Error).message);
      return m ? new UsageError(`${file}:${m[2]}:${m[3]}: ${m[1]}, ${m[4]}`) : e;
    },
    refusePredict: 'predict does not run language models; sample text with: qkv generate --model DIR --prompt TEXT',
    readInputs: () => { throw new UsageError('predict does not run language models'); },
    format: (input, output) => ({ line: `${String(input)}${String(output)}`, json: { prompt: input, text: output } }),
  },
};

export function cliTask(name: unknown, where: string): CliTask {
  const t = CLI_TASKS[name as TaskName];
  if (!t) throw new UsageError(`${where}: the ${String(name)} task has no such command`);
  return t;
}
