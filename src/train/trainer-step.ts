// One training step's gradients: forward and backward over `accumulate` micro-batches, the
// global norm clipped, and the loss (with the gradient norm beside it) read back in one read
// when asked, after the work is queued: on a GPU that read is the step's only trip to the CPU.
// The optimizer's update is the Trainer's, after it has looked at the loss.
import type { TypedArray } from '../core/dtype.js';
import { isDeviceBackend } from '../kernels/registry.js';
import { clipGradNorm } from '../optim/clip.js';
import { add } from '../ops/elementwise.js';
import { stack } from '../ops/join.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainingTask } from './trainer-types.js';

export interface StepGradients {
  /** The micro-batches' mean loss and the gradient norm before clipping (null: not read this step). */
  loss: number | null;
  gradNorm: number | null;
  /** Positions (tokens, frames) in the step's batches. */
  positions: number;
}

/**
 * Accumulates the gradients of one step into `params`; `read`: whether to read the loss back
 * (a device's read is yielded for runAsync to await).
 */
export function* computingGradients<Batch>(task: TrainingTask<Batch>, nextBatch: () => Batch, params: Tensor[], o: { accumulate: number; clip: number },
  read: boolean): globalThis.Generator<Promise<unknown>, StepGradients, unknown> {
  let lossSum: Tensor | null = null; // the micro-batches' mean loss, 0-d, never read inside the step
  let positions = 0;
  for (let micro = 0; micro < o.accumulate; micro++) {
    // the batch's tensors are made inside the scope, so they are freed with the step's
    // temporaries (found by scripts/long-memory.mjs: 5 tensors a step stayed alive)
    const part = tidy(() => {
      const batch = nextBatch();
      positions += task.size(batch);
      const l = task.loss(batch);
      const scaled = o.accumulate === 1 ? l : l.div(o.accumulate);
      scaled.backward();
      return scaled.detach();
    });
    const sum: Tensor = lossSum ? noGrad(() => add(lossSum!, part)) : part;
    if (lossSum) { lossSum.dispose(); part.dispose(); }
    lossSum = sum;
  }
  const norm = clipGradNorm(params, o.clip > 0 ? o.clip : Infinity);
  // one read for both numbers: [loss, gradNorm]
  let stats: TypedArray | null = null;
  if (read) {
    const both = noGrad(() => stack([lossSum!, norm]));
    stats = isDeviceBackend(both.backend) ? (yield both.data().finally(() => both.dispose())) as TypedArray : both.toTypedArray();
    if (!isDeviceBackend(both.backend)) both.dispose();
  }
  lossSum!.dispose();
  norm.dispose();
  return { loss: stats ? stats[0]! : null, gradNorm: stats ? stats[1]! : null, positions };
}
