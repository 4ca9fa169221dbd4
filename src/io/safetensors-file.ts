// safetensors files on disk (node:fs), and a module's state dict to and from one. The pure
// parse/serialize (no node:fs, usable in a browser) is in safetensors.ts.
import { readFileSync } from 'node:fs';
import { fsReason, writeFileAtomic, type FileWrite } from './atomic-file.js';
import { shapeStr } from '../core/errors.js';
import type { LoadResult, Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { parseSafetensors, planSafetensors, SafetensorsError, tensorBytes, type SafetensorsContents } from './safetensors.js';

/** Reads a .safetensors file (see parseSafetensors for the dtypes and checks). Errors start with the path. */
export function loadSafetensors(path: string): SafetensorsContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const reason = fsReason(e);
    if (reason === null) throw e;
    throw new SafetensorsError(path, `cannot read: ${reason}`);
  }
  return parseSafetensors(bytes, path);
}

/**
 * Writes tensors (and optional string metadata) to a .safetensors file atomically: the bytes
 * go to a temporary file in the same directory (`<path>.tmp-<pid>-<random>`), which is fsynced
 * and then renamed over `path`. On any failure the temporary file is removed and an existing
 * file at `path` is left as it was. Tensors are streamed one at a time (no whole-file buffer).
 */
export function saveSafetensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const w = safetensorsWrite(path, tensors, metadata);
  writeFileAtomic(w.path, w.chunks, w.fail);
}

/** A .safetensors file as one write of several that belong together (see writeFilesTogether); checked before anything is written. */
export function safetensorsWrite(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): FileWrite {
  const plan = planSafetensors(tensors, metadata, path); // checks everything before touching the disk
  return {
    path,
    chunks: (function* () {
      yield plan.header;
      for (const e of plan.entries) yield tensorBytes(e.tensor);
    })(),
    fail: (message) => new SafetensorsError(path, message),
  };
}

/**
 * Saves a module's state dict (parameters and persistent buffers, by dotted name) as a
 * .safetensors file, atomically (see saveSafetensors). safetensors has no shared storage, so a
 * tied weight (one tensor under two names, as GPT's lm_head.weight and transformer.wte.weight)
 * is written under each of its names, its values copied once per name, as PyTorch's
 * safetensors.torch.save_file after cloning. loadStateDictFile reads such a file back into the
 * tied tensor, and also accepts a file holding the tied weight under only one of its names.
 */
export function saveStateDict(module: Module, path: string, metadata?: Record<string, string>): void {
  saveSafetensors(path, module.stateDict(), metadata);
}

/**
 * Loads a .safetensors file into a module through module.loadStateDict (strict by default:
 * missing and unexpected keys are refused, a wrongly shaped key always is; the error names the
 * keys and shapes and nothing changes when it throws). F16/BF16/F64 values are read as
 * float32 and I64 as int32. For a tied weight, the file may hold it under any one of its names
 * (as safetensors.torch.save_model writes it); when it holds several, they must be equal.
 * The tensors read from the file are freed before this returns.
 */
export function loadStateDictFile(module: Module, path: string, options: { strict?: boolean } = {}): LoadResult {
  const { tensors } = loadSafetensors(path);
  try {
    const own = module.stateDict();
    // Group the module's names by tensor: a tied weight has several.
    const names = new Map<Tensor, string[]>();
    for (const [k, t] of own) names.set(t, [...(names.get(t) ?? []), k]);
    const given = new Map(tensors);
    for (const group of names.values()) {
      if (group.length < 2) continue;
      const present = group.filter((k) => tensors.has(k));
      if (present.length === 0) continue;
      const first = tensors.get(present[0]!)!;
      for (const k of present.slice(1)) {
        const other = tensors.get(k)!;
        if (other.shape.join() === first.shape.join() && other.dtype === first.dtype && !sameValues(first, other)) {
          throw new SafetensorsError(path, `${module.kind}: "${present[0]}" and "${k}" are one tied tensor in the model `
            + `but hold different values in the file (${shapeStr(first.shape)})`);
        }
      }
      for (const k of group) if (!given.has(k)) given.set(k, first);
    }
    return module.loadStateDict(given, options);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function sameValues(a: Tensor, b: Tensor): boolean {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}
