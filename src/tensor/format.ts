// Printing tensors the way PyTorch does, summarised with "..." when large.
import type { DType, TypedArray } from '../core/dtype.js';

const EDGE = 3;
const THRESHOLD = 1000;

export function formatTensor(values: TypedArray, shape: readonly number[], dtype: DType, grad: string | null): string {
  const summarise = values.length > THRESHOLD;
  const isInt = dtype === 'int32';
  const finite = Array.from(values).filter(Number.isFinite);
  const wholeNumbers = finite.every((v) => Number.isInteger(v));
  const maxAbs = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const sci = !isInt && (maxAbs >= 1e8 || (maxAbs > 0 && maxAbs < 1e-4));
  const fmt = (v: number): string => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (isInt) return String(v);
    if (sci) return v.toExponential(4);
    return wholeNumbers ? `${v}.` : v.toFixed(4);
  };
  const strs = Array.from(values, fmt);
  const width = strs.reduce((w, s) => Math.max(w, s.length), 0);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]!; }

  const indent = 'tensor('.length;
  const render = (axis: number, base: number): string => {
    if (axis === shape.length) return strs[base]!.padStart(width);
    const n = shape[axis]!;
    const idx = summarise && n > 2 * EDGE ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
    const parts = idx.map((i) => (i < 0 ? '...' : render(axis + 1, base + i * strides[axis]!)));
    if (axis === shape.length - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(shape.length - 1 - axis) + ' '.repeat(indent + axis + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? fmt(values[0]!) : render(0, 0);
  const extras: string[] = [];
  if (isInt) extras.push('dtype=int32');
  if (summarise || values.length === 0) extras.push(`shape=[${shape.join(', ')}]`);
  if (grad) extras.push(grad === 'leaf' ? 'requiresGrad=true' : `gradFn=${grad}`);
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
