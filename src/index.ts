// qkv's public API for Node: everything in the browser entry, plus reading and writing files.
export * from './browser.js';
export { loadSafetensors, saveSafetensors, saveStateDict, loadStateDictFile } from './io/safetensors-file.js';
