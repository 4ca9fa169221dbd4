// What the visualizer accepts as one input: a sentence (words models), one JSON object of frames
// or of graph nodes and edges (frames models), a prompt (lm) or a source (seq2seq); and the
// input a model starts with.
import { data, QkvError, type InspectableModel, type Seq2SeqInput, type TaskInstance } from '../../src/index.js';
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
