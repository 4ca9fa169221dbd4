// A WebAssembly.Memory grow detaches every typed array over the old buffer. An op that takes a
// view of its input and then allocates its output (which may grow the heap) would hand the kernel
// a detached, empty array: NaN or nothing at all. Here every allocation grows the memory first, the
// kernels refuse detached arrays, and the ops that train a GPT, a conv net and the reductions must
// give the reference backend's values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import {
  AdamW, Generator, getBackend, HeapAllocator, nn, referenceBackend, registerBackend, setBackend, tidy, type Allocation, type Backend,
  type DType, type KernelSignatures,
} from '../../src/index.js';
import { createWasmBackendSync, wasmBuilt } from '../../src/kernels/wasm/node.js';

const MAX_GROWS = 3000; // 190 MiB at most

/** Grows the memory by a page before each allocation (up to MAX_GROWS times). */
function growing(heap: { memory: WebAssembly.Memory; allocate(dtype: DType, length: number): Allocation }) {
  let grows = 0;
  return {
    allocate(dtype: DType, length: number): Allocation {
      if (grows++ < MAX_GROWS) heap.memory.grow(1);
      return heap.allocate(dtype, length);
    },
  };
}

const isDetached = (a: unknown): boolean => ArrayBuffer.isView(a) && a.buffer.byteLength === 0;

/** Kernels that throw when handed a detached array (directly, or inside a Strided or MatMulArgs). */
function guarded(kernels: Partial<KernelSignatures>): Partial<KernelSignatures> {
  return Object.fromEntries(Object.entries(kernels).map(([name, k]) => [name, (...args: unknown[]) => {
    args.forEach((a, i) => {
      const inner = a && typeof a === 'object' && !ArrayBuffer.isView(a) ? Object.values(a) : [a];
      if (inner.some(isDetached)) throw new Error(`${name}: argument ${i} is a detached array`);
    });
    return (k as (...x: unknown[]) => unknown)(...args);
  }]));
}

/** Losses of 3 AdamW steps of a 2-layer GPT, a conv1d/layerNorm/reductions workout, and their gradients. */
function workout(): number[] {
  const out: number[] = [];
  const g = new Generator(5);
  const gpt = new nn.GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, generator: g });
  const opt = new AdamW(gpt.parameters(), { lr: 1e-2 });
  const idx = q.randint(0, 11, [3, 8], { generator: g });
  const tgt = q.randint(0, 11, [3, 8], { generator: g });
  for (let step = 0; step < 3; step++) {
    out.push(tidy(() => {
      const { loss } = gpt.forward(idx, { targets: tgt });
      loss!.backward();
      opt.step();
      for (const p of gpt.parameters()) p.zeroGrad();
      return loss!.item();
    }));
  }
  const conv = new nn.Conv1d(4, 6, 3, { padding: 'same', generator: g });
  const x = q.randn([2, 4, 9], { generator: g, requiresGrad: true });
  tidy(() => {
    const y = q.layerNorm(conv.forward(x).transpose(1, 2), [6]).logSoftmax(-1);
    const l = q.add(q.sum(y.permute([2, 0, 1]), [1, 2]).mean(), q.cumsum(y, 1).max().mul(0.1));
    l.backward();
    out.push(l.item(), ...Array.from(x.grad!.toTypedArray()), ...Array.from(q.topk(y.flatten(), 3).values.toTypedArray()));
  });
  for (const t of [idx, tgt, x]) t.dispose();
  gpt.dispose();
  conv.dispose();
  return out;
}

function on(backend: Backend, f: () => number[]): number[] {
  registerBackend(backend);
  const previous = getBackend().name;
  setBackend(backend.name);
  try {
    return f();
  } finally {
    setBackend(previous);
  }
}

test('ops re-read their arrays after allocating: a heap that grows at every allocation gives the reference values', () => {
  const expected = on(referenceBackend, workout);
  const heap = new HeapAllocator({ initialPages: 1 });
  const got = on({ name: 'grow-every-allocation', allocator: growing(heap), kernels: guarded(referenceBackend.kernels) }, workout);
  assert.deepEqual(got, expected);
});

test('the same on the wasm backend (its kernels within float32 rounding of the reference)', { skip: !wasmBuilt() && 'not built' }, () => {
  const expected = on(referenceBackend, workout);
  const wasm = createWasmBackendSync({ initialPages: 1, tiny: true });
  const allocator = growing({ memory: wasm.memory, allocate: (dtype, length) => wasm.allocator.allocate(dtype, length) });
  const got = on({ name: 'wasm-grow-every-allocation', allocator, kernels: guarded(wasm.kernels) }, workout);
  assert.equal(got.length, expected.length);
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-4 * Math.max(1, Math.abs(expected[i]!)), `value ${i}: ${v} vs ${expected[i]}`));
});
