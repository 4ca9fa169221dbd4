// Graph JSON Lines: one graph per line, positions are nodes, edges connect them:
//   {"nodes": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "edges": [[0, 1], [1, 2]], "labels": ["a", "b", "a"]}
//   {"tokens": ["the", "cat", "sat"], "edges": [[0, 1], [2, 1]], "label": "x"}
// Nodes carry feature vectors ("nodes", one dimension for the whole file) or words ("tokens").
// "edges" lists [from, to] pairs of 0-based node indices (may be empty); whether they are
// directed is the model's choice (nn.graphMask treats them as undirected by default).
// "labels" gives one label per node (tag), "label" one per graph (classify).
import type { ClassifiedExample, SequenceInput, TaggedExample } from './types.js';
import { DimensionCheck, type JsonObject, type LabelMode, labelMode, labelsOf, parseObject, strings, vectors } from './json.js';
import type { JsonlOptions } from './frames.js';
import { fail, nonEmpty, numberedLines, origin } from './text.js';

/** `obj.edges` checked against `n` nodes. */
export function edgesOf(obj: JsonObject, n: number, file: string, line: number): [number, number][] {
  const value = obj['edges'];
  if (value === undefined) fail(file, line, 'no "edges" (give [] for a graph without edges)');
  if (!Array.isArray(value)) fail(file, line, '"edges" must be an array of [from, to] pairs');
  value.forEach((e: unknown, i) => {
    if (!Array.isArray(e) || e.length !== 2 || !e.every((x) => Number.isInteger(x))) {
      fail(file, line, `edge ${i} must be a pair of integer node indices [from, to], found ${JSON.stringify(e)}`);
    }
    if (!e.every((x: number) => x >= 0 && x < n)) fail(file, line, `edge ${i} [${e[0]}, ${e[1]}] is out of range for ${n} nodes (indices 0..${n - 1})`);
  });
  return value as [number, number][];
}

/**
 * Reads graph JSONL into TaggedExample[] ("labels", one per node) or ClassifiedExample[]
 * ("label"), each with `frames` (from "nodes") or `tokens`, and `edges`. Errors as for
 * readFramesJsonl, plus: neither or both of "nodes"/"tokens", a malformed edge, and an edge
 * endpoint outside 0..n-1 (naming the edge's index and the node count).
 */
export function readGraphJsonl(text: string, file: string, options: { mode: 'tag' }): TaggedExample[];
export function readGraphJsonl(text: string, file: string, options: { mode: 'classify' }): ClassifiedExample[];
export function readGraphJsonl(text: string, file: string, options?: JsonlOptions): TaggedExample[] | ClassifiedExample[];
export function readGraphJsonl(text: string, file: string, options: JsonlOptions = {}): TaggedExample[] | ClassifiedExample[] {
  const out: (TaggedExample | ClassifiedExample)[] = [];
  const dims = new DimensionCheck();
  let seen: { mode: LabelMode; line: number } | null = null;
  let inputKind: { key: string; line: number } | null = null;
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const obj = parseObject(raw, file, line);
    const mode = labelMode(obj, options.mode, seen, file, line);
    seen ??= { mode, line };
    const hasNodes = 'nodes' in obj;
    if (hasNodes === 'tokens' in obj) fail(file, line, hasNodes ? 'has both "nodes" and "tokens"; give one' : 'no "nodes" (feature vectors) or "tokens" (words)');
    const key = hasNodes ? 'nodes' : 'tokens';
    if (inputKind !== null && inputKind.key !== key) fail(file, line, `has "${key}", but line ${inputKind.line} has "${inputKind.key}"; a file holds one kind`);
    inputKind ??= { key, line };
    const input: SequenceInput = {};
    let n: number;
    if (hasNodes) {
      const frames = vectors(obj, 'nodes', 'node', file, line);
      dims.check(frames[0]!.length, 'node feature', file, line);
      input.frames = frames;
      n = frames.length;
    } else {
      input.tokens = strings(obj, 'tokens', 'token', file, line);
      n = input.tokens.length;
    }
    input.edges = edgesOf(obj, n, file, line);
    const labels = labelsOf(obj, mode, n, 'node', file, line);
    out.push(typeof labels === 'string' ? { ...input, label: labels, origin: origin(file, line) } : { ...input, labels, origin: origin(file, line) });
  }
  return nonEmpty(out, file) as TaggedExample[] | ClassifiedExample[];
}
