// Test helpers: run an exported ONNX model in ONNX Runtime (onnxruntime-node) and compare with qkv.
import * as ort from 'onnxruntime-node';
import { assertClose } from '../../helpers.js';

export type Feed = Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>;

export async function runOnnx(bytes: Uint8Array, feed: Feed): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feed)) inputs[k] = new ort.Tensor(v.data instanceof Float32Array ? 'float32' : 'int64', v.data, v.dims);
  const out = await session.run(inputs);
  const result: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [k, t] of Object.entries(out)) result[k] = { data: t.data as Float32Array, dims: t.dims };
  await session.release();
  return result;
}

export const int64 = (a: ArrayLike<number>): BigInt64Array => BigInt64Array.from(Array.from(a, (x) => BigInt(x)));

/** Within 1e-4 (absolute), as the issue asks. */
export function assertOnnxClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assertClose(actual, expected, what, 1e-4, 0);
}
