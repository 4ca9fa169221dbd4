// What the visualizer accepts as one input: a sentence (words models) or one JSON object of
// frames, or of graph nodes and edges (frames models); and the input a model starts with.
import { data, QkvError, type InspectableModel } from '../../src/index.js';
import { sequenceInputs } from '../tasks.js';

/** One typed input -> the model's input; a QkvError says what is wrong with it. */
export function parseInput(m: InspectableModel, text: string, maxPositions: number): data.SequenceInput {
  if (!text.trim()) throw new QkvError('the input is empty: type at least one word');
  const one = m.featurizer.words ? text.replace(/\s+/g, ' ') : text;
  const input = sequenceInputs(one, 'input', m)[0] as data.SequenceInput;
  const n = (input.tokens ?? input.frames ?? []).length;
  if (n > maxPositions) throw new QkvError(`the input has ${n} positions; at most ${maxPositions} (--max-positions)`);
  const bad = input.edges?.find((e) => !Array.isArray(e) || e.length !== 2 || !e.every((x) => Number.isInteger(x) && x >= 0 && x < n));
  if (bad) throw new QkvError(`input: edge ${JSON.stringify(bad)} must join two node numbers from 0 to ${n - 1}`);
  return input;
}

/** An input to start with: the lecture's sentence, or one example of the built-in set the model learned ('' if none). */
export function defaultInput(meta: Record<string, unknown>): string {
  if (meta.builtin === 'ambiguity') return 'I saw a saw';
  if (meta.builtin === 'speech' || meta.builtin === 'graph') {
    const e = (data.builtinDataset(meta.builtin, { seed: 12345, n: 1 }) as data.TaggedExample[])[0]!;
    const round = (m: number[][]) => m.map((row) => row.map((x) => Number(x.toFixed(4))));
    return JSON.stringify(e.edges ? { nodes: round(e.frames!), edges: e.edges } : { frames: round(e.frames!) });
  }
  return '';
}
