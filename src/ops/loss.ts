// Losses. crossEntropy is fused (logSoftmax + NLL in one kernel, its gradient in one more),
// with PyTorch's ignore index and label smoothing.
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { div, mul, notEqual, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { checkDtype, checkTensor, contiguousTensor, f32, onHost, ownerOf, release } from './util.js';

export interface CrossEntropyOptions {
  /** Targets equal to this add no loss and no gradient (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** ε in q = (1-ε)·onehot + ε/C. */
  labelSmoothing?: number;
  /** 'mean' over non-ignored targets (default), 'sum', or 'none' (per target). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of logits [..., C] against int32 class ids [...]. (PyTorch puts C second for
 * N-d inputs; here classes are always the last axis, the layout a sequence model produces.)
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = options;
  checkTensor('crossEntropy', logits, 'logits');
  checkTensor('crossEntropy', targets, 'targets');
  checkDtype('crossEntropy', logits, 'float32', 'logits');
  checkDtype('crossEntropy', targets, 'int32', 'targets');
  if (logits.rank < 1 || targets.shape.join() !== logits.shape.slice(0, -1).join()) {
    throw new OpError('crossEntropy', `targets of shape ${shapeStr(targets.shape)} do not match logits ${shapeStr(logits.shape)} (expected ${shapeStr(logits.shape.slice(0, -1))})`);
  }
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new OpError('crossEntropy', `labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new OpError('crossEntropy', `unknown reduction "${reduction}"`);
  const classes = logits.shape[logits.rank - 1]!;
  const rows = targets.size;
  const be = ownerOf('crossEntropy', logits, targets);
  const tc = contiguousTensor(targets);
  let valid = 0;
  let loss: Tensor;
  let lse: Tensor;
  try {
    // targets are range-checked where they can be read for free (a host backend); on a device they
    // are not read (that would be a round trip per step), so they are checked where the batches are made
    const t = onHost(tc) ? tc.buffer() as Int32Array : new Int32Array(0);
    for (let i = 0; i < t.length; i++) {
      if (t[i] === ignoreIndex) continue;
      if (t[i]! < 0 || t[i]! >= classes) {
        throw new OpError('crossEntropy', `target ${t[i]} at flat position ${i} is out of range for ${classes} classes`);
      }
      valid++;
    }
    loss = Tensor.empty(targets.shape, 'float32', be);
    lse = Tensor.empty([rows], 'float32', be);
    const xc = contiguousTensor(logits);
    // arrays read after the last allocation: a WebAssembly heap may grow and move
    kernel('CrossEntropy', be)(f32(xc), tc.buffer() as Int32Array, rows, classes, ignoreIndex, labelSmoothing, f32(loss), f32(lse));
    release(xc, logits);
  } finally {
    release(tc, targets);
  }
  const perRow = record('crossEntropy', [logits, targets], loss, (g, [logits, targets, lse]) => {
    const gbe = ownerOf('crossEntropy', logits, g);
    const dx = Tensor.empty(logits!.shape, 'float32', gbe);
    const [xc, tc, gc] = [contiguousTensor(logits!), contiguousTensor(targets!), contiguousTensor(g)];
    kernel('CrossEntropyGrad', gbe)(f32(xc), tc.buffer() as Int32Array, f32(lse!), f32(gc), rows, classes, ignoreIndex, labelSmoothing, f32(dx));
    release(xc, logits!);
    release(tc, targets!);
    release(gc, g);
    return [dx, null];
  }, [logits, targets, lse]);
  lse.dispose();
  if (reduction === 'none') return perRow;
  const reduced = tidy(() => {
    if (reduction === 'sum') return sum(perRow);
    // mean over the targets that count (NaN when none does, as PyTorch); on a device, where the
    // targets are not read, they are counted there (ignored targets must not count)
    if (!onHost(targets)) return div(sum(perRow), sum(notEqual(targets, ignoreIndex)));
    return valid === rows ? mean(perRow) : div(sum(perRow), valid);
  });
  perRow.dispose();
  return reduced;
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor): Tensor {
  checkTensor('mseLoss', input);
  checkTensor('mseLoss', target, 'target');
  if (input.shape.join() !== target.shape.join()) {
    throw new OpError('mseLoss', `input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} differ in shape`);
  }
  return tidy(() => {
    const d = sub(input, target);
    return mean(mul(d, d));
  });
}
