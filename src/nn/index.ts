// The nn layer: modules users build models from.
export { Module, ModuleError, type StateDict, type LoadResult } from './module.js';
export { Linear, Embedding, LayerNorm, Dropout, type InitOptions } from './layers.js';
export { ModuleList, Sequential } from './containers.js';
export * as init from './init.js';
export type { SequenceEncoder, EncodeOptions } from './encoder.js';
