// ONNX export: a graph builder over protobufjs with ONNX's schema, and lowerings per module kind.
export { OnnxGraph, ONNX_OPSETS, DEFAULT_OPSET, type Dim } from './graph.js';
export { gptGraph, type GptGraph } from './gpt.js';
export { cacheInputs, cacheOutputs } from './cache.js';
export { sequenceEncoder } from './encoders.js';
export { registerAttentionLowering, attentionLowering, blockedMask, type AttentionLowering, type HeadsCall, type HeadsResult } from './attention-kinds.js';
export { addPositions, encoderStack, decoderLayer } from './transformer.js';
export { linear, layerNorm, reduce, unsqueeze, slice } from './layers.js';
export { imageEncoder } from './vision.js';
