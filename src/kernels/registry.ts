// The kernel registry: backends register by name; ops ask for a kernel by name *of the backend
// that owns their inputs* (a Storage records whose allocator made it). A host backend that lacks
// a kernel gets the reference backend's (same typed arrays); a device backend never does: a
// missing kernel there is one clear error. The "default" backend (setBackend) is only where new
// tensors made from host values (tensor(), zeros(), a model's parameters) are allocated.
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

/** The default backend: where tensors made from host values are allocated. */
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

/** True for a backend whose buffers JavaScript cannot read directly (a GPU). */
export function isDeviceBackend(b: Backend): boolean {
  return b.kind === 'device';
}

/** The kernel `name` of backend `on` (default: the default backend); see the file comment for fallbacks. */
export function kernel<K extends KernelName>(name: K, on: Backend | null = active): KernelSignatures[K] {
  const k = on?.kernels[name] ?? (on?.kind === 'device' ? undefined : reference?.kernels[name]);
  if (!k) {
    throw new QkvError(on?.kind === 'device'
      ? `kernel "${name}" is not implemented on the ${on.name} backend (nothing falls back to the CPU silently); move the tensors with t.to('native') or run with --backend native`
      : `no kernel "${name}" in backend ${on?.name ?? '(none)'}`);
  }
  return k as KernelSignatures[K];
}
