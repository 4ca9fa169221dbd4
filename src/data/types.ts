// What the readers produce and the tasks consume. Every example remembers where it came
// from, so a problem found later (an unknown label at eval time, say) can name file:line.
import type { ImageInput } from './image/pixels.js';

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

/** A file a checkpoint carries besides config.json (a subword model's tokenizer.json), as read back: text, and a path to name in errors. */
export interface TaskFile {
  path: string;
  text: string;
}

/** Sequence to sequence (seq2seq task): source and target token lists. */
export interface PairExample {
  source: string[];
  target: string[];
  origin?: Origin;
}

