// Shared by the baseline encoders: argument checks, the activation, and the padding mask.
import { shapeStr } from '../../core/errors.js';
import { gelu, relu, where } from '../../ops/elementwise.js';
import { unsqueeze } from '../../ops/views.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleError } from '../module.js';

export type Activation = 'relu' | 'gelu';

export function positiveInt(module: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ModuleError(module, `${name} must be a positive integer, got ${v}`);
}

export function checkActivation(module: string, a: string): Activation {
  if (a !== 'relu' && a !== 'gelu') throw new ModuleError(module, `activation must be 'relu' or 'gelu', got '${a}'`);
  return a;
}

export function activate(x: Tensor, a: Activation): Tensor {
  return a === 'relu' ? relu(x) : gelu(x);
}

/** Checks x is (batch, time, inDim) with at least one step. */
export function checkSequence(module: string, x: Tensor, inDim: number, dimName = 'inDim'): void {
  if (x.rank !== 3 || x.shape[2] !== inDim || x.shape[1] === 0) {
    throw new ModuleError(module, `input of shape ${shapeStr(x.shape)} must be (batch, time, ${dimName} = ${inDim}) with time >= 1`);
  }
}

/** Checks a key padding mask (if any) is (batch, time) for x. */
export function checkMask(module: string, x: Tensor, mask: Tensor | null | undefined): void {
  if (mask && (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1])) {
    throw new ModuleError(module, `keyPaddingMask of shape ${shapeStr(mask.shape)} must be (batch, time) = ${shapeStr(x.shape.slice(0, 2))} for input ${shapeStr(x.shape)}`);
  }
}

/** Checks a key padding mask and returns it as (batch, time, 1), or null. */
export function paddingMask(module: string, x: Tensor, mask: Tensor | null | undefined): Tensor | null {
  checkMask(module, x, mask);
  return mask ? unsqueeze(mask, -1) : null;
}

/** x with every padded position (mask (batch, time, 1) nonzero) set to zero. */
export function zeroPadded(x: Tensor, mask3: Tensor | null): Tensor {
  return mask3 ? where(mask3, 0, x) : x;
}
