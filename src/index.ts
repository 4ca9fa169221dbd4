// qkv's public API for Node: everything in src/api.ts, plus reading and writing files. On import
// the WebAssembly backend (all cores) becomes the default; QKV_BACKEND=ref keeps the reference
// backend, QKV_THREADS=n sets the threads. See installDefaultBackend.
import { installDefaultBackend } from './kernels/wasm/node.js';

export * from './api.js';
// Node's createWasmBackend reads the .wasm file next to the module (the browser's fetches it)
export { createWasmBackend, createWasmBackendSync, defaultBackendNote, selectBackend } from './kernels/wasm/node.js';
export { loadSafetensors, saveSafetensors, saveStateDict, loadStateDictFile } from './io/safetensors-file.js';
export { readTextFile } from './data/files.js';
export { saveCheckpoint, readCheckpoint, isCheckpoint, removeLeftovers, CheckpointError, type CheckpointRead, type CheckpointWrite } from './train/checkpoint.js';
export { trainSession, loadInstance, resolveCheckpoint, CHECKPOINT_FORMAT, type SessionOptions, type SessionResult } from './train/session.js';

installDefaultBackend();
