// Size flags checked before anything is allocated: a model whose parameters, gradients,
// optimizer moments and activations would not fit is refused with the flags and the bytes it
// needs, instead of a RangeError from deep inside a typed-array constructor.
import { totalmem } from 'node:os';
import { getBackend } from '../src/index.js';
import { UsageError } from './shared.js';

/** What one allocation space can hold: 4 GiB for a 32-bit WebAssembly memory, else the machine's memory. */
export function memoryLimit(): number {
  const wasm = getBackend().name.startsWith('wasm');
  return wasm ? Math.min(4 * 2 ** 30, totalmem()) : totalmem();
}

export function bytesText(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/**
 * Refuses sizes whose estimated bytes pass the limit. `flags` are the size flags and their
 * values (named in the message, largest first as given); `params` the parameter count (x4 for
 * weights, gradients and two Adam moments) and `activations` the float count of one step.
 */
export function checkSizes(flags: Record<string, number | string>, params: number, activations: number, limit = memoryLimit()): void {
  const bytes = 4 * (4 * params + activations);
  if (Number.isFinite(bytes) && bytes <= limit) return;
  const named = Object.entries(flags).map(([f, v]) => `${f} ${v}`).join(', ');
  throw new UsageError(`${named}: this model needs about ${bytesText(bytes)} (${params.toExponential(2)} parameters with gradients and optimizer state, plus activations) but at most ${bytesText(limit)} can be allocated; choose smaller sizes`);
}
