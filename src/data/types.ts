// What the readers produce and the tasks consume. Every example remembers where it came
// from, so a problem found later (an unknown label at eval time, say) can name file:line.

export interface Origin {
  file: string;
  /** 1-based line where the example starts. */
  line: number;
}

/**
 * One input sequence: words (`tokens`), or real-valued vectors (`frames`, e.g. audio features
 * or graph node features), optionally with graph edges between positions ([from, to], 0-based).
 */
export interface SequenceInput {
  tokens?: string[];
  frames?: number[][];
  edges?: [number, number][];
  /** An image (channels, height, width), normalised; the vision models cut it into patches themselves. */
  image?: ImageInput;
}

/** Sequence labeling: one label per position (tag task). */
export interface TaggedExample extends SequenceInput {
  labels: string[];
  origin?: Origin;
}

/** One label for the whole sequence (classify task). */
export interface ClassifiedExample extends SequenceInput {
  label: string;
  origin?: Origin;
}

/** Sequence to sequence (seq2seq task): source and target token lists. */
export interface PairExample {
  source: string[];
  target: string[];
  origin?: Origin;
}

import { QkvError } from '../core/errors.js';
import type { ImageInput } from './image/pixels.js';

/** A problem in a data file: printed as "file:line: message". */
export class DataError extends QkvError {
  override name = 'DataError';
  constructor(readonly file: string, readonly line: number | null, readonly detail: string) {
    super(line === null ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
  }
}
