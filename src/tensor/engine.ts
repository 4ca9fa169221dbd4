// Engine-wide state: the live-memory count, lifetime scopes and the grad mode.
// Memory is explicit: a tensor's storage is freed when the last handle (tensor, view or value
// saved for backward) lets go of it, never by the garbage collector.
import { MemoryError } from '../core/errors.js';
import type { Tensor } from './tensor.js';

export interface MemoryInfo {
  /** Tensor handles not yet disposed (views and values saved for backward included). */
  tensors: number;
  /** Buffers not yet freed (views share one). */
  storages: number;
  /** Bytes held by live buffers. */
  bytes: number;
  /** The most bytes held at once since the last resetPeak(). */
  peakBytes: number;
}

/** Round trips counted since the process started; a test takes the difference around a step. */
export interface TransferCounts {
  /** Reads of tensor values into JavaScript (toTypedArray, item, toArray, data, array, itemAsync). */
  hostReads: number;
  /** Tensors moved between backends (t.to(name)). */
  transfers: number;
}

export const state = {
  tensors: 0,
  storages: 0,
  bytes: 0,
  peakBytes: 0,
  hostReads: 0,
  transfers: 0,
  gradEnabled: true,
  scopes: [] as Set<Tensor>[],
  nextId: 1,
};

export function memory(): MemoryInfo {
  return { tensors: state.tensors, storages: state.storages, bytes: state.bytes, peakBytes: state.peakBytes };
}

export function transferCounts(): TransferCounts {
  return { hostReads: state.hostReads, transfers: state.transfers };
}

/** Starts a new peak measurement from the current live bytes. */
export function resetPeak(): void {
  state.peakBytes = state.bytes;
}

/** Runs fn with gradient recording off (like torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = state.gradEnabled;
  state.gradEnabled = false;
  try {
    return fn();
  } finally {
    state.gradEnabled = prev;
  }
}

/** Sets the grad mode and returns the previous one (for scopes that span an await; prefer noGrad). */
export function setGradEnabled(flag: boolean): boolean {
  const prev = state.gradEnabled;
  state.gradEnabled = flag;
  return prev;
}

export function isGradEnabled(): boolean {
  return state.gradEnabled;
}

/** Anything a scope may return: tensors are kept, nested in arrays or plain objects. */
export type Kept = unknown;

function collect(value: Kept, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

let isTensor: (x: unknown) => x is Tensor = (_x): _x is Tensor => false;
/** Called once by tensor.ts so this file need not import the Tensor class. */
export function setTensorCheck(check: (x: unknown) => x is Tensor): void {
  isTensor = check;
}

/**
 * Runs fn in a lifetime scope: every tensor created inside and not returned is disposed
 * when fn returns (or throws). Returned tensors (also inside arrays/objects) move to the
 * enclosing scope. Use keep(t) for tensors that must outlive every scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  state.scopes.push(scope);
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) throw new MemoryError('tidy: the function must not be async (tensors would be disposed before it resolves)');
    return result;
  } finally {
    state.scopes.pop();
    const keepSet = new Set<Tensor>();
    collect(result, keepSet);
    const parent = state.scopes[state.scopes.length - 1];
    for (const t of scope) {
      if (keepSet.has(t)) parent?.add(t);
      else t.dispose();
    }
  }
}

/** Takes a tensor out of scope tracking: it lives until disposed by hand. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of state.scopes) s.delete(t);
  return t;
}

export function track(t: Tensor): void {
  state.scopes[state.scopes.length - 1]?.add(t);
}
