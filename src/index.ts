// qkv's public API for Node: everything in src/api.ts, plus reading and writing files. On import
// the native backend (the C++ addon, all cores) becomes the default, else the WebAssembly one;
// QKV_BACKEND=native|wasm|ref|webgpu picks, QKV_THREADS=n sets the threads. See installDefaultBackend.
import { installDefaultBackend, installEnvWebGpu } from './kernels/node-backends.js';

export * from './api.js';
// Node's createWasmBackend reads the .wasm file next to the module (the browser's fetches it)
export { createWasmBackend, createWasmBackendSync } from './kernels/wasm/node.js';
export { chooseBackend, defaultBackendNote, nativeAvailable, selectBackend, selectBackendAsync, type BackendChoice } from './kernels/node-backends.js';
export { decideBackend, WEBGPU_MIN_FLOPS, WEBGPU_MIN_PARAMS, type ChooseOptions, type ChosenBackend, type ModelSize } from './kernels/webgpu/choose.js';
export { createWebGpuBackendNode } from './kernels/webgpu/node.js';
export { createNativeBackendSync, type NativeBackend, type NativeBackendOptions } from './kernels/native/index.js';
export { loadSafetensors, saveSafetensors, saveStateDict, loadStateDictFile } from './io/safetensors-file.js';
// ONNX export is in the Node entry: protobufjs is a bare import that a browser page without a bundler cannot resolve
export { exportOnnx, type OnnxExportOptions, type OnnxFile } from './io/onnx/export.js';
// an attention kind of your own exports once it registers its lowering (nn.registerAttentionKind has no ONNX side)
export { registerAttentionLowering, blockedMask, type AttentionLowering, type HeadsCall, type HeadsResult, type OnnxGraph } from './io/onnx/index.js';
export { saveOnnx, onnxPath } from './io/onnx-file.js';
export { saveTorchHandoff } from './io/torch-file.js';
export { readTextFile, readBinaryFile, resolveListPath } from './data/files.js';
export { writeFileAtomic, writeFilesTogether, refuseOverwritingInputs, type FileWrite } from './io/atomic-file.js';
export { decodeImage, imageFile, readImageList, readImageFolder, encodePng } from './data/image/decode.js';
export { saveCheckpoint, readCheckpoint, readCheckpointConfig, checkpointValueCount, isCheckpoint, removeLeftovers, CheckpointError, type CheckpointRead, type CheckpointWrite } from './train/checkpoint.js';
export { loadModel, type LoadedModel } from './run/load-model.js';
export { hostCopy, hostBackendName } from './run/host-copy.js';
export { trainSession, trainSessionAsync, loadInstance, resolveCheckpoint, CHECKPOINT_FORMAT, type SessionOptions, type SessionResult } from './run/session.js';

export { fromPretrained, savePretrained, saveAdapter, loadAdapter, pretrainedStateDict, imageProcessorFromJson, type Pretrained, type HfTokenizer } from './run/pretrained.js';
export { finetunePretrained, type FinetuneOptions, type FinetuneResult, type FinetuneTask, type SpeechExample } from './run/finetune.js';
export { generatePretrained, generatePretrainedAsync, tagWordsPretrained, classifyTextPretrained, classifyImagePretrained, transcribePretrained, transcribeFeatures, whisperPrompt, inspectPretrained, type HfGenerateOptions } from './run/hf-use.js';

installDefaultBackend();
await installEnvWebGpu();
