// The built-in attention kinds, registered in this order (the order of --help's choice lists).
export { ATTENTION_KINDS, attentionKind, attendWith, decodingOf, registerAttentionKind, type AttendCall, type AttentionKindDef, type Decoding } from './kind.js';
export { softmaxAttention, reluAttention } from './dot-product.js';
export { additiveAttention } from './additive.js';
export { linearAttentionKind } from './linear.js';
