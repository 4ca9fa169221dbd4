// A simulated device backend for tests: the reference kernels behind opaque handles. Its buffers
// are objects, not typed arrays, so any code that reads or writes tensor memory in JavaScript
// (a host loop over parameters, a sync read, a typed-array method on a buffer) fails here as it
// would on a GPU, while the numbers stay exactly the reference backend's.
import { referenceBackend, registerBackend, listBackends, type Backend, type DType, type KernelSignatures, type TypedArray } from '../src/index.js';

/** An opaque buffer: only the simulated device's kernels, read and write see inside. */
export class SimHandle {
  constructor(readonly array: TypedArray) {}
}

const unwrap = (x: unknown): unknown => {
  if (x instanceof SimHandle) return x.array;
  if (x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    // Strided views and argument objects (MatMulArgs) carry handles in their fields, and in fields of those (its bias)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, unwrap(v)]));
  }
  return x;
};

/** Makes (once) and returns a device backend named `name` over the reference kernels, minus `without`. */
export function simDevice(name = 'sim-device', without: string[] = []): Backend {
  if (listBackends().includes(name)) return { name } as Backend;
  const kernels = Object.fromEntries(Object.entries(referenceBackend.kernels)
    .filter(([k]) => !without.includes(k))
    .map(([k, fn]) => [k, (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args.map(unwrap))])) as Partial<KernelSignatures>;
  const backend: Backend = {
    name,
    kind: 'device',
    allocator: {
      allocate(dtype: DType, length: number) {
        const handle = new SimHandle(dtype === 'int32' ? new Int32Array(length) : new Float32Array(length).fill(NaN));
        return { view: () => handle as unknown as TypedArray, free: () => {} };
      },
    },
    kernels,
    read: async (h, _dtype, offset, length) => (h as unknown as SimHandle).array.slice(offset, offset + length),
    write: (h, values, offset) => { (h as unknown as SimHandle).array.set(values, offset); },
  };
  registerBackend(backend);
  return backend;
}
