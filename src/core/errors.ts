// Errors. Every error thrown for bad input names the op (or module) and the shapes involved,
// so a user can find the line that caused it without reading a stack trace.

/** Base class of every error qkv throws on purpose. */
export class QkvError extends Error {
  override name = 'QkvError';
}

/** Bad input to an op: wrong shape, dtype, axis or index. `op` is the op's name. */
export class OpError extends QkvError {
  override name = 'OpError';
  constructor(
    readonly op: string,
    message: string,
  ) {
    super(`${op}: ${message}`);
  }
}

/** Misuse of autograd (backward twice through freed values, backward from a non-scalar...). */
export class AutogradError extends QkvError {
  override name = 'AutogradError';
}

/** Use of a tensor after dispose(), or a leak check failure. */
export class MemoryError extends QkvError {
  override name = 'MemoryError';
}

/**
 * A device backend (the GPU) failed: it was lost, ran out of memory, met a buffer over its limit
 * or a shader it cannot compile. The message names the backend and what to do; a training run
 * saves what it can and says where its latest checkpoint is.
 */
export class DeviceError extends QkvError {
  override name = 'DeviceError';
}

/** Formats a shape the way PyTorch prints it: [2, 3, 4]. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
