// The data layer: readers for data files (text in, examples out; no file system here, so it
// works in browsers), vocabularies and label sets, splits, and the built-in data sets.
// src/data/files.ts (Node) reads a file's text with one-line errors.
export { DataError } from './errors.js';
export type { Origin, SequenceInput, TaggedExample, ClassifiedExample, PairExample, TaskFile } from './types.js';
export { readConllu, readConll, type ConlluOptions } from './conll.js';
export { readClassifyTsv, readPairsTsv, type PairsOptions } from './tsv.js';
export { readFramesJsonl, type JsonlOptions, type LabelMode } from './frames.js';
export { readGraphJsonl } from './graph.js';
export { readInputsJsonl, type InputOptions } from './inputs.js';
export { Vocab, CharVocab, charVocab, PAD, UNK, BOS, EOS, type VocabOptions, type VocabJSON } from './vocab.js';
export { LabelSet, type LabelSetJSON } from './labels.js';
export { split } from './split.js';
export * from './builtin/index.js';
export * from './tokenizers/index.js';
export * from './audio/index.js';
export { describeFrontEnd, type FrontEnd } from './frontend.js';
export * from './image/index.js';
