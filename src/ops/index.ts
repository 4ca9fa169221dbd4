// Every user-facing op, in one place.
export * from './creation.js';
export * from './elementwise.js';
export * from './views.js';
export * from './reduce.js';
export * from './join.js';
export * from './linalg.js';
export * from './softmax.js';
export * from './layernorm.js';
export * from './embedding.js';
export * from './dropout.js';
export * from './loss.js';
export * from './conv.js';
export * from './inplace.js';
export type { TensorLike } from './util.js';
export * from './linear-attention.js';
export * from './flash-attention.js';
export * from './conv2d.js';
export * from './reads.js';
