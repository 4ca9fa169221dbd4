// qkv's public API, without anything that needs Node; src/browser.ts and src/index.ts (which adds
// the file helpers) export it and pick the default backend.
import { referenceBackend } from './kernels/ref/index.js';
import { registerReferenceBackend } from './kernels/registry.js';
import { installTensorMethods } from './ops/methods.js';
// Tensor's op methods (x.matmul(w)) are declared by an augmentation in ops/methods.ts; this
// re-export keeps that file in the declarations a consumer's compiler reads from index.d.ts.
export type {} from './ops/methods.js';

registerReferenceBackend(referenceBackend);
installTensorMethods();

export { QkvError, OpError, AutogradError, MemoryError, DeviceError } from './core/errors.js';
export { OptionsError, checkOptions } from './core/options.js';
export type { DType, TypedArray } from './core/dtype.js';
export type { Shape } from './core/shape.js';
export { Generator, manualSeed, defaultGenerator } from './core/rng.js';
export type { Backend, BackendKind, Allocator, Allocation, KernelName, KernelSignatures, Strided } from './kernels/contract.js';
export { registerBackend, setBackend, getBackend, getBackendByName, describeBackend, listBackends, kernel, isDeviceBackend } from './kernels/registry.js';
export { referenceBackend } from './kernels/ref/index.js';
export { HeapAllocator, type HeapStats } from './kernels/wasm/heap.js';
export { wasmBackendFromModule, pickVariant as wasmVariant, relaxedSimdSupported, simdSupported, sharedMemorySupported, type WasmBackend, type WasmBackendOptions, type WasmVariant } from './kernels/wasm/index.js';
export { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from './kernels/webgpu/index.js';
export type { GpuStats } from './kernels/webgpu/device.js';
export { Tensor, type NestedArray } from './tensor/tensor.js';
export { memory, resetPeak, transferCounts, noGrad, isGradEnabled, setGradEnabled, tidy, keep, type MemoryInfo, type TransferCounts } from './tensor/engine.js';
export type { BackwardOptions } from './tensor/backward.js';
export * from './ops/index.js';
export const version = '0.1.0';
export { Optimizer, type ParamGroup, type Params } from './optim/optimizer.js';
export { Adam, AdamW, type AdamOptions } from './optim/adam.js';
export { SGD, type SgdOptions } from './optim/sgd.js';
export * as nn from './nn/index.js';
export * as hf from './nn/models/hf/index.js';
export { LinearAttentionState } from './nn/attention/linear-attention-state.js';
export { Module, ModuleError, type StateDict } from './nn/module.js';
export { exportTorch, type TorchHandoff } from './io/torch.js';
export { parseSafetensors, serializeSafetensors, SafetensorsError, type SafetensorsContents } from './io/safetensors.js';
export { constant, warmupCosine, noam, makeSchedule, SCHEDULES, type Schedule, type ScheduleName } from './optim/schedule.js';
export { clipGradNorm } from './optim/clip.js';
export * as data from './data/index.js';
export { DataError } from './data/errors.js';
export * as metrics from './metrics/index.js';
export * as decode from './decode/index.js';
export { TASKS, type TaskName, type TaskDriver, type TaskInstance, type TaskOptions } from './tasks/driver.js';
export { tagDriver, tagReport, tagAttention, predictTags, predictTagsAsync, type TagModel, type TagConfig, type TagTrainOptions } from './tasks/tag.js';
export { classifyDriver, type ClassifyInstance, type ClassifyConfig, type ClassifyOptions } from './tasks/classify.js';
export { inspectModel, type InspectableModel } from './inspect/index.js';
export type { ModelInspection, LayerInspection, HeadInspection, InspectOptions, AttentionPart, GenerationInspection, GenerationStep, GenerationHead, ModelInfo, WatchRecord, WatchPart, AttentionKindInfo, ImageView } from './inspect/wire.js';
export { DEFAULT_VIZ_TOKENS } from './inspect/lm.js';
export { lmDriver, createLm, lmFromConfig, lmTraining, lmEvaluate, generate, generateAsync, generateTokens, generateTokensAsync, defaultPrompt, textLoss, estimateLoss, getBatch, splitTokens, wordPieces, DEFAULT_LM_MODEL, LM_TOKENIZE, type LmInstance, type LmConfig, type LmModelConfig, type LmOptions, type LmTokenize, type LmTokenizer, type GenerateOptions } from './tasks/lm.js';
export { seq2seqDriver, translate, translateAsync, seq2seqBatch, seq2seqLogits, Seq2SeqModel, DEFAULT_SEQ2SEQ_MODEL, greedyBatch, beamDecode, type Seq2SeqInstance, type Seq2SeqConfig, type Seq2SeqInput, type Seq2SeqOptions, type Seq2SeqModelConfig } from './tasks/seq2seq.js';
export { WordPieceTokenizer, anyTokenizerFromJson, wordPieceFromJson, type Encoding } from './data/tokenizers/index.js';
export { BpeTokenizer, parseTokenizerJson, serializeTokenizerJson, toTokenizerJson, tokenizerFromJson, type BpeTokenizerTrainOptions } from './data/tokenizers/index.js';
export { describeTokenizer, TOKENIZER_FILE, DEFAULT_BPE_VOCAB } from './data/tokenizers/subword.js';
export { MODEL_KINDS, DEFAULT_MODEL, SequenceTagger, SequenceClassifier, ImageClassifier, type ModelConfig, type ModelKind } from './nn/models/taggers.js';
export { Trainer, TrainingError, OPTIMIZERS, type TrainerOptions, type TrainEvent, type TrainingTask, type HostTrainingTask, type EvalResult, type OptimizerName, type TrainerState, type Checkpointer, type StopReason } from './train/trainer.js';
export { EpochSampler, BUCKET_POOL, parseDuration, formatDuration, type EpochPosition } from './train/stopping.js';
export { DEV_CURVE_DEFAULTS, devCurvePlan, devCurveEvaluated, devCurveLr, devCurveEnd, newDevCurveState, type DevCurveOptions, type DevCurvePlan, type DevCurveState } from './train/dev-curve.js';
export * as experiments from './experiments/index.js';
