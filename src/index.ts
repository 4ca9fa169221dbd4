// qkv's public API for Node: everything in the browser entry, plus reading and writing files.
export * from './browser.js';
// Node's createWasmBackend reads the .wasm file next to the module (the browser's fetches it)
export { createWasmBackend, createWasmBackendSync } from './kernels/wasm/node.js';
export { loadSafetensors, saveSafetensors, saveStateDict, loadStateDictFile } from './io/safetensors-file.js';
export { readTextFile } from './data/files.js';
export { saveCheckpoint, readCheckpoint, isCheckpoint, CheckpointError, type CheckpointRead, type CheckpointWrite } from './train/checkpoint.js';
export { trainSession, loadInstance, resolveCheckpoint, CHECKPOINT_FORMAT, type SessionOptions, type SessionResult } from './train/session.js';
