// Conv1d and its two gradients on native (native/src/conv.h): forward and grad-input one task
// per batch row, grad-weight one per output channel. Every call whose arrays live in the heap
// comes here, however small (native registers no wasm fallback for conv1d; the reference is the other path).
import type { Conv1dArgs, KernelSignatures } from '../contract.js';
import { conv1d, conv1dGradInput, conv1dGradWeight } from '../ref/conv1d.js';
import { ptr } from '../wasm/util.js';
import { enter, type NativeContext } from './context.js';

type Names = 'Conv1d' | 'Conv1dGradInput' | 'Conv1dGradWeight';

export function convKernels(ctx: NativeContext): Pick<KernelSignatures, Names> {
  const { addon, mem } = ctx;
  // arrays outside the heap go to the reference
  const call = (other: KernelSignatures[Names], which: number) => {
    return (p: Float32Array, q: Float32Array, a: Conv1dArgs, out: Float32Array): void => {
      if (!mem.holds(p, q, out)) return other(p, q, a, out);
      enter(ctx);
      addon.conv1d(which, ptr(p), ptr(q), ptr(out), a.batch, a.cin, a.cout, a.groups, a.length, a.kernel, a.outLength,
        a.stride, a.padLeft, a.dilation);
    };
  };
  return { Conv1d: call(conv1d, 0), Conv1dGradInput: call(conv1dGradInput, 1), Conv1dGradWeight: call(conv1dGradWeight, 2) };
}
