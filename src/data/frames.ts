// Frames JSON Lines: real-valued sequences (audio features, sensor readings), one JSON object
// per line:
//   {"frames": [[0.1, 0.2], [0.3, 0.4]], "labels": ["a", "b"]}   one label per frame (tag)
//   {"frames": [[0.1, 0.2], [0.3, 0.4]], "label": "x"}           one label per sequence (classify)
// Every frame of the file has the same dimension; numbers are finite; blank lines are skipped;
// other keys are ignored. A file holds one kind: the first example decides, unless `mode` says.
import type { ClassifiedExample, TaggedExample } from './types.js';
import { DimensionCheck, type LabelMode, labelMode, labelsOf, parseObject, vectors } from './json.js';
import { nonEmpty, numberedLines, origin } from './text.js';

export type { LabelMode } from './json.js';

export interface JsonlOptions {
  /** Require "labels" (`tag`) or "label" (`classify`) on every line; default: whatever line 1 has. */
  mode?: LabelMode;
}

/**
 * Reads frames JSONL into TaggedExample[] ("labels") or ClassifiedExample[] ("label"), with
 * `frames` set. Errors name the line: bad JSON, a missing or malformed key, a value that is not
 * a finite number, frames of different dimension (within the line or against the first line),
 * a labels count different from the frame count, and a line of the other kind.
 */
export function readFramesJsonl(text: string, file: string, options: { mode: 'tag' }): TaggedExample[];
export function readFramesJsonl(text: string, file: string, options: { mode: 'classify' }): ClassifiedExample[];
export function readFramesJsonl(text: string, file: string, options?: JsonlOptions): TaggedExample[] | ClassifiedExample[];
export function readFramesJsonl(text: string, file: string, options: JsonlOptions = {}): TaggedExample[] | ClassifiedExample[] {
  const out: (TaggedExample | ClassifiedExample)[] = [];
  const dims = new DimensionCheck();
  let seen: { mode: LabelMode; line: number } | null = null;
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const obj = parseObject(raw, file, line);
    const mode = labelMode(obj, options.mode, seen, file, line);
    seen ??= { mode, line };
    const frames = vectors(obj, 'frames', 'frame', file, line);
    dims.check(frames[0]!.length, 'frame', file, line);
    const labels = labelsOf(obj, mode, frames.length, 'frame', file, line);
    out.push(typeof labels === 'string' ? { frames, label: labels, origin: origin(file, line) } : { frames, labels, origin: origin(file, line) });
  }
  return nonEmpty(out, file) as TaggedExample[] | ClassifiedExample[];
}
