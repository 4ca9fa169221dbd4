// Unlabelled inputs for prediction, read by the same checks as the training readers (frames.ts,
// graph.ts): one JSON object per line with "frames" (or "nodes") and, for graphs, "edges".
// `qkv predict` reads its JSONL input here, so a line it accepts is one training would accept,
// and its errors are the same "file:line: reason".
import type { Origin, SequenceInput } from './types.js';
import { edgesOf } from './graph.js';
import { DimensionCheck, parseObject, vectors } from './json.js';
import { fail, nonEmpty, numberedLines, origin } from './text.js';

export interface InputOptions {
  /** The vector size the model reads: every line must match it. */
  dim?: number;
  /** Require "edges" on every line (a graph model), or refuse them (false); default: optional. */
  edges?: boolean;
}

/** Reads `{"frames": [[...]]}` / `{"nodes": [[...]], "edges": [[u, v]]}` lines; labels, if any, are ignored. */
export function readInputsJsonl(text: string, file: string, options: InputOptions = {}): (SequenceInput & { origin: Origin })[] {
  const out: (SequenceInput & { origin: Origin })[] = [];
  const dims = new DimensionCheck();
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const obj = parseObject(raw, file, line);
    if (('frames' in obj) === ('nodes' in obj)) fail(file, line, '"frames" or "nodes" (an array of vectors), exactly one, is needed');
    const key = 'frames' in obj ? 'frames' : 'nodes';
    const frames = vectors(obj, key, key === 'frames' ? 'frame' : 'node', file, line);
    const dim = frames[0]!.length;
    if (options.dim !== undefined && dim !== options.dim) fail(file, line, `${key} have ${dim} values each, but the model reads ${options.dim}`);
    dims.check(dim, key === 'frames' ? 'frame' : 'node feature', file, line);
    const input: SequenceInput & { origin: Origin } = { frames, origin: origin(file, line) };
    if (options.edges === true || (options.edges === undefined && 'edges' in obj)) input.edges = edgesOf(obj, frames.length, file, line);
    else if (options.edges === false && 'edges' in obj) fail(file, line, 'has "edges", but this model was not trained on graphs');
    out.push(input);
  }
  return nonEmpty(out, file, 'input lines');
}
