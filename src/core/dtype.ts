// Data types. qkv has two: float32 for values and int32 for ids, labels and masks
// (no int64: ids fit in int32 and WebAssembly/JS handle int32 natively).

export type DType = 'float32' | 'int32';
export type TypedArray = Float32Array | Int32Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, int32: 4 };

export function arrayFor(dtype: DType, length: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(length) : new Int32Array(length);
}

/** The dtype of a binary op's result: int32 only when both sides are int32. */
export function promote(a: DType, b: DType): DType {
  return a === 'int32' && b === 'int32' ? 'int32' : 'float32';
}
