// Checks shared by the JSON Lines readers (frames.ts, graph.ts): one JSON object per line,
// vectors of finite numbers of one dimension across the whole file, and the label keys
// ("labels": one per position, or "label": one per sequence).
import { fail } from './text.js';

/** `tag`: a label per position ("labels"); `classify`: one label per sequence ("label"). */
export type LabelMode = 'tag' | 'classify';

export type JsonObject = Record<string, unknown>;

/** Parses one line as a JSON object. */
export function parseObject(raw: string, file: string, line: number): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    fail(file, line, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, line, 'expected a JSON object');
  return value as JsonObject;
}

/** Remembers the first vector dimension seen in a file and refuses any other. */
export class DimensionCheck {
  private dim: number | null = null;
  private firstLine = 0;

  check(dim: number, what: string, file: string, line: number): void {
    if (this.dim === null) {
      this.dim = dim;
      this.firstLine = line;
    } else if (dim !== this.dim) {
      fail(file, line, `${what}s have dimension ${dim}, but line ${this.firstLine} has dimension ${this.dim}`);
    }
  }
}

/** `obj[key]` as a non-empty list of equal-length vectors of finite numbers; `what` names one ("frame", "node"). */
export function vectors(obj: JsonObject, key: string, what: string, file: string, line: number): number[][] {
  const value = obj[key];
  if (!Array.isArray(value)) fail(file, line, `"${key}" must be an array of ${what} vectors`);
  if (value.length === 0) fail(file, line, `"${key}" is empty`);
  value.forEach((v: unknown, i) => {
    if (!Array.isArray(v) || v.length === 0) fail(file, line, `${what} ${i} must be a non-empty array of numbers`);
    v.forEach((x: unknown, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(file, line, `${what} ${i}, value ${j} is not a finite number`);
    });
    if (v.length !== value[0].length) fail(file, line, `${what} ${i} has ${v.length} values, but ${what} 0 has ${value[0].length}`);
  });
  return value as number[][];
}

/** `obj[key]` as a non-empty list of non-empty strings; `what` names one ("token", "label"). */
export function strings(obj: JsonObject, key: string, what: string, file: string, line: number): string[] {
  const value = obj[key];
  if (!Array.isArray(value)) fail(file, line, `"${key}" must be an array of strings`);
  if (value.length === 0) fail(file, line, `"${key}" is empty`);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string' || v === '') fail(file, line, `${what} ${i} must be a non-empty string`);
  });
  return value as string[];
}

/**
 * Decides the label mode of a line ("labels" -> tag, "label" -> classify) and checks it against
 * the mode asked for, or the mode of the file's first example (`seen`).
 */
export function labelMode(obj: JsonObject, asked: LabelMode | undefined, seen: { mode: LabelMode; line: number } | null, file: string, line: number): LabelMode {
  const has = [('labels' in obj), ('label' in obj)];
  if (has[0] && has[1]) fail(file, line, 'has both "labels" and "label"; give one');
  if (!has[0] && !has[1]) fail(file, line, 'no "labels" (one per position) or "label" (one per sequence)');
  const mode: LabelMode = has[0] ? 'tag' : 'classify';
  const key = (m: LabelMode) => (m === 'tag' ? '"labels"' : '"label"');
  if (asked !== undefined && mode !== asked) fail(file, line, `expected ${key(asked)} (mode ${asked}), found ${key(mode)}`);
  if (seen !== null && mode !== seen.mode) fail(file, line, `has ${key(mode)}, but line ${seen.line} has ${key(seen.mode)}; a file holds one kind`);
  return mode;
}

/** The labels of a line in its mode: `labels` (one per position, `n` of them) or `label`. */
export function labelsOf(obj: JsonObject, mode: LabelMode, n: number, what: string, file: string, line: number): string[] | string {
  if (mode === 'classify') {
    const label = obj['label'];
    if (typeof label !== 'string' || label === '') fail(file, line, '"label" must be a non-empty string');
    return label;
  }
  const labels = strings(obj, 'labels', 'label', file, line);
  if (labels.length !== n) fail(file, line, `${labels.length} labels for ${n} ${what}s`);
  return labels;
}
