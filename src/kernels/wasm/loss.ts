// LogSoftmax, LogSoftmaxGrad, CrossEntropy and CrossEntropyGrad on wasm (asm/loss.ts), over
// contiguous [rows, cols] float32 arrays and int32 targets in the module's memory (else the
// reference kernel). Targets are checked here (each in [0, classes) or the ignore index) so the
// kernel never reads outside a row; an ignore index that is not an int32 goes to the reference.
import type { KernelSignatures } from '../contract.js';
import { crossEntropy as refCrossEntropy, crossEntropyGrad as refCrossEntropyGrad } from '../ref/crossentropy.js';
import { logSoftmax as refLogSoftmax, logSoftmaxGrad as refLogSoftmaxGrad } from '../ref/softmax.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

type Names = 'LogSoftmax' | 'LogSoftmaxGrad' | 'CrossEntropy' | 'CrossEntropyGrad';

/** True when every target is the ignore index (an int32) or a class in [0, classes). */
function targetsOk(targets: Int32Array, rows: number, classes: number, ignoreIndex: number): boolean {
  if ((ignoreIndex | 0) !== ignoreIndex || targets.length < rows) return false;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t !== ignoreIndex && (t < 0 || t >= classes)) return false;
  }
  return true;
}

export function lossKernels(w: WasmKernels, mem: MemoryBuffer): Pick<KernelSignatures, Names> {
  return {
    LogSoftmax: (x, rows, cols, out) => {
      if (!mem.holds(x, out) || x.length < rows * cols || out.length < rows * cols) return refLogSoftmax(x, rows, cols, out);
      w.log_softmax(ptr(x), ptr(out), rows, cols);
    },
    LogSoftmaxGrad: (y, dy, rows, cols, dx) => {
      const n = rows * cols;
      if (!mem.holds(y, dy, dx) || y.length < n || dy.length < n || dx.length < n) return refLogSoftmaxGrad(y, dy, rows, cols, dx);
      w.log_softmax_grad(ptr(y), ptr(dy), ptr(dx), rows, cols);
    },
    CrossEntropy: (logits, targets, rows, classes, ignoreIndex, smoothing, loss, lse) => {
      if (!mem.holds(logits, loss, lse) || !mem.holdsInt32(targets) || logits.length < rows * classes || loss.length < rows ||
        lse.length < rows || !targetsOk(targets, rows, classes, ignoreIndex)) {
        return refCrossEntropy(logits, targets, rows, classes, ignoreIndex, smoothing, loss, lse);
      }
      w.cross_entropy(ptr(logits), ptr(targets), rows, classes, ignoreIndex, smoothing, ptr(loss), ptr(lse));
    },
    CrossEntropyGrad: (logits, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dlogits) => {
      if (!mem.holds(logits, lse, dloss, dlogits) || !mem.holdsInt32(targets) || logits.length < rows * classes ||
        dlogits.length < rows * classes || lse.length < rows || dloss.length < rows || !targetsOk(targets, rows, classes, ignoreIndex)) {
        return refCrossEntropyGrad(logits, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dlogits);
      }
      w.cross_entropy_grad(ptr(logits), ptr(targets), ptr(lse), ptr(dloss), rows, classes, ignoreIndex, smoothing, ptr(dlogits));
    },
  };
}
