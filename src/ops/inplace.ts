// In-place writes, for optimizers and initialisation. They bump the storage version so
// autograd refuses to use a value that was changed after being saved for backward.
import { OpError, shapeStr } from '../core/errors.js';
import { broadcastShapes, broadcastStrides } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { state } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, isWhole, ownerOf, scalar } from './util.js';

function checkWritable(op: string, target: Tensor): void {
  checkTensor(op, target, 'target');
  if (state.gradEnabled && target.requiresGrad && target.isLeaf) {
    throw new OpError(op, `in-place write to a leaf that requires grad ${shapeStr(target.shape)}; do it inside noGrad()`);
  }
}

/** Copies `value` (broadcast to target's shape) into target's memory. Returns target. */
export function assign(target: Tensor, value: Tensor): Tensor {
  checkWritable('assign', target);
  checkTensor('assign', value, 'value');
  const shape = broadcastShapes('assign', target.shape, value.shape);
  if (shape.join() !== target.shape.join()) {
    throw new OpError('assign', `value of shape ${shapeStr(value.shape)} does not broadcast to target shape ${shapeStr(target.shape)}`);
  }
  const be = ownerOf('assign', target, value);
  const src = value.strided('assign');
  kernel('Copy', be)({ ...src, strides: broadcastStrides(value.shape, value.strides, shape) }, target.strided('assign'), target.shape);
  target.bumpVersion();
  return target;
}

/** Sets every element of target to value. Returns target. */
export function fill_(target: Tensor, value: number): Tensor {
  checkWritable('fill_', target);
  if (isWhole(target)) {
    // Math.fround: the value as the float32 the copy below would read (then truncated for int32)
    kernel('Fill', target.backend)(target.buffer(), Math.fround(value));
  } else {
    const v = scalar(value, target); // on the target's backend; the copy casts as the whole-tensor fill does
    kernel('Copy', target.backend)({ data: v.buffer(), offset: 0, strides: target.shape.map(() => 0) }, target.strided('fill_'), target.shape);
    v.dispose();
  }
  target.bumpVersion();
  return target;
}
