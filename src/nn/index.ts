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
export { MultiheadAttention, type AttentionKind, type MultiheadAttentionOptions, type AttentionResult, type AttentionIntermediates } from './attention/multihead.js';
export { KVCache } from './attention/kv-cache.js';
export { LinearAttentionState } from './attention/linear-attention-state.js';
export { ATTENTION_KINDS, attentionKind, attendWith, decodingOf, registerAttentionKind, type AttendCall, type AttentionKindDef, type Decoding } from './attention/kinds/index.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEncoding, RotaryEmbedding } from './attention/positional.js';
export { TransformerEncoderLayer, TransformerDecoderLayer, type TransformerLayerOptions, type Activation, type LayerIntermediates } from './transformer/layers.js';
export { TransformerEncoder, TransformerDecoder, Transformer, type TransformerOptions } from './transformer/stacks.js';
export { GPT, gptConfigFromNanoGPT, type GPTConfig, type NanoGPTModelArgs } from './models/gpt.js';
export { cachedLength, asKVCache, type DecodingCache } from './attention/decoding-cache.js';
export { AttentionEncoder, POSITION_KINDS, type AttentionEncoderOptions, type PositionKind } from './transformer/attention-encoder.js';
// the models qkv's tasks train (also exported at the top level)
export { MODEL_KINDS, DEFAULT_MODEL, SequenceTagger, SequenceClassifier, type ModelConfig, type ModelKind } from './models/taggers.js';
export { Seq2SeqModel, DEFAULT_SEQ2SEQ_MODEL, type Seq2SeqModelConfig } from './models/seq2seq.js';
export { PatchEncoder, type PatchEncoderOptions, type ImageShape } from './vision/patch-encoder.js';
export { ConvImageEncoder, Conv2d, type ConvImageEncoderOptions } from './vision/conv-encoder.js';
