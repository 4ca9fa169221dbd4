// The kernel registry: backends register by name; ops ask for a kernel by name and get the
// active backend's, or the reference backend's when the active one does not implement it.
import { QkvError } from '../core/errors.js';
import type { Backend, KernelName, KernelSignatures } from './contract.js';

const backends = new Map<string, Backend>();
let reference: Backend & { kernels: KernelSignatures } | null = null;
let active: Backend | null = null;

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
  if (!active) active = backend;
}

/** The reference backend must implement every kernel: the type says so. */
export function registerReferenceBackend(backend: Backend & { kernels: KernelSignatures }): void {
  reference = backend;
  registerBackend(backend);
}

export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b) throw new QkvError(`setBackend: no backend named "${name}" (registered: ${[...backends.keys()].join(', ')})`);
  active = b;
}

export function getBackend(): Backend {
  if (!active) throw new QkvError('no backend registered');
  return active;
}

/** A registered backend by name (an error naming the registered ones otherwise). */
export function getBackendByName(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new QkvError(`no backend named "${name}" (registered: ${[...backends.keys()].join(', ')})`);
  return b;
}

/** "wasm (simd, 2 threads)", "ref": the backend's name with its build and threads where it has them. */
export function describeBackend(b: Backend = getBackend()): string {
  const extra = b as Backend & { variant?: string; threads?: number };
  if (extra.variant === undefined) return b.name;
  return `${b.name} (${extra.variant}, ${extra.threads ?? 1} thread${(extra.threads ?? 1) === 1 ? '' : 's'})`;
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

export function kernel<K extends KernelName>(name: K): KernelSignatures[K] {
  const k = active?.kernels[name] ?? reference?.kernels[name];
  if (!k) throw new QkvError(`no kernel "${name}" in backend ${active?.name ?? '(none)'}`);
  return k as KernelSignatures[K];
}
