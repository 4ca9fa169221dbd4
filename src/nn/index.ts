// The nn layer: modules users build models from.
export { Module, ModuleError, type StateDict, type LoadResult } from './module.js';
export { Linear, Embedding, LayerNorm, Dropout, type InitOptions } from './layers.js';
export { ModuleList, Sequential } from './containers.js';
export * as init from './init.js';
export type { SequenceEncoder, EncodeOptions } from './encoder.js';
export * from './baselines/index.js';
export { causalMask, windowMask, graphMask, paddingMask } from './attention/masks.js';
export { scaledDotProductAttention, enableFlashAttention, flashAttentionEnabled, type AttentionMasks, type Normalizer, type ScaledDotProductOptions } from './attention/scaled-dot-product.js';
export { SelfAttention, type SelfAttentionOptions, type SelfAttentionTrace, type Relevance } from './attention/self-attention.js';
export { MultiheadAttention, ATTENTION_KINDS, type AttentionKind, type MultiheadAttentionOptions, type AttentionResult } from './attention/multihead.js';
export { KVCache } from './attention/kv-cache.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEncoding, RotaryEmbedding } from './attention/positional.js';
export { TransformerEncoderLayer, TransformerDecoderLayer, type TransformerLayerOptions, type Activation } from './transformer/layers.js';
export { TransformerEncoder, TransformerDecoder, Transformer, type TransformerOptions } from './transformer/stacks.js';
export { GPT, gptConfigFromNanoGPT, type GPTConfig, type NanoGPTModelArgs } from './transformer/gpt.js';
export { cachedLength, type DecodingCache } from './attention/decoding-cache.js';
export { AttentionEncoder, POSITION_KINDS, type AttentionEncoderOptions, type PositionKind } from './transformer/attention-encoder.js';
