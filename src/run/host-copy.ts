// A task's model copied from a device backend (the GPU) to a host one, for work that reads
// every intermediate back (qkv viz's inspections: dozens of small tensors per layer and head).
// The copy is explicit: each weight crosses once with `await t.toAsync(host)` (counted as a
// transfer), and the caller says which backend ran what.
import { QkvError } from '../core/errors.js';
import { getBackend, getBackendByName, isDeviceBackend, listBackends, setBackend } from '../kernels/registry.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TaskFile, TaskInstance } from '../tasks/driver.js';
import type { Loader } from './session.js';

/** The best registered host backend: native, else wasm, else ref. */
export function hostBackendName(): string {
  const names = listBackends();
  const name = ['native', 'wasm', 'ref'].find((n) => names.includes(n) && !isDeviceBackend(getBackendByName(n)));
  if (!name) throw new QkvError('no host backend (native, wasm or ref) is registered');
  return name;
}

/**
 * The same model (config, vocabularies, weights) on the host backend `backend` (default: the
 * best registered one). A model already on a host backend is returned as it is.
 */
export async function hostCopy<I extends TaskInstance>(driver: Loader<I>, m: I, backend = hostBackendName()): Promise<I> {
  const first = m.model.parameters()[0];
  if (!first || !isDeviceBackend(first.backend)) return m;
  const weights = new Map<string, Tensor>();
  try {
    for (const [k, t] of m.model.stateDict()) weights.set(k, await t.toAsync(backend));
    const files: Record<string, TaskFile> = Object.fromEntries(Object.entries(m.files?.() ?? {}).map(([name, text]) => [name, { path: name, text }]));
    const before = getBackend().name;
    setBackend(backend); // the copy's parameters are made on the host
    let copy: I;
    try {
      copy = driver.fromConfig(m.config, files);
    } finally {
      setBackend(before);
    }
    copy.model.loadStateDict(weights);
    copy.model.train(m.model.training);
    return copy;
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}
