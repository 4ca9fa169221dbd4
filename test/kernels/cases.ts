// The kernel case table (ggml's test-backend-ops, one row per kernel): for every kernel name of
// the contract, a generator of cases — input arrays, the call, which arrays are its outputs.
// case-table.test.ts runs each case on every backend against the reference backend. The table's
// type is a Record over KernelName, so a kernel added to the contract without a case does not
// compile, and the runner also checks it at run time.
import { Generator, referenceBackend, type Backend, type KernelName, type KernelSignatures, type Strided, type TypedArray } from '../../src/index.js';
import { BINARY_KERNELS, UNARY_KERNELS, type Conv1dArgs } from '../../src/kernels/contract.js';

/** An input or output array: its dtype, length and how to fill it (outputs start as NaN / -1). */
export interface ArraySpec {
  dtype: 'float32' | 'int32';
  length: number;
  init?: (g: Generator, i: number) => number;
}

export interface KernelCase {
  what: string;
  arrays: ArraySpec[];
  /** Calls the kernel on the arrays (allocated in the backend's memory, in `arrays` order). */
  run(k: KernelSignatures, a: TypedArray[]): void;
  /** Indices of the arrays the kernel writes (compared with the reference's). */
  outputs: number[];
  /** Relative tolerance (default 1e-5; 0 = bit-equal). */
  tol?: number;
  /** The native addon export this case must reach when the native backend takes every call (tests count it). */
  native?: string;
  /** Only for backends with this capability (e.g. FlashAttentionArgs.layout needs Backend.stridedAttention). */
  needs?: 'stridedAttention';
}

const u = (lo: number, hi: number) => (g: Generator) => lo + (hi - lo) * g.uniform();
const f = (length: number, init = u(-1, 1)): ArraySpec => ({ dtype: 'float32', length, init });
const out = (length: number): ArraySpec => ({ dtype: 'float32', length });
const ints = (length: number, init: (g: Generator, i: number) => number): ArraySpec => ({ dtype: 'int32', length, init });
const dense = (data: TypedArray, offset = 0, shape: number[] = [data.length - offset]): Strided => ({
  data, offset, strides: shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1)),
});
const F = (a: TypedArray) => a as Float32Array;
const I = (a: TypedArray) => a as Int32Array;

/** The values each unary kernel is defined on. */
const unaryDomain: Partial<Record<string, (g: Generator) => number>> = { Log: u(0.05, 4), Sqrt: u(0, 4), Rsqrt: u(0.05, 4) };

function unaryCases(name: (typeof UNARY_KERNELS)[number]) {
  return (): KernelCase[] => [5, 64, 1003].flatMap((n) => [
    { what: `${name} dense n=${n}`, arrays: [f(n, unaryDomain[name] ?? u(-4, 4)), out(n)], outputs: [1],
      run: (k, [x, y]) => k[name](dense(x!), [n], y!, 1.0) },
    // a transposed (strided) read
    { what: `${name} transposed 3×${n}`, arrays: [f(3 * n, unaryDomain[name] ?? u(-4, 4)), out(3 * n)], outputs: [1],
      run: (k, [x, y]) => k[name]({ data: x!, offset: 0, strides: [1, 3] }, [3, n], y!, 0.5) },
  ]);
}

function binaryCases(name: (typeof BINARY_KERNELS)[number]) {
  // every binary kernel but Pow has a native strided loop
  const STRIDED = name === 'Pow' ? undefined : 'binaryStrided';
  const domain = name === 'Pow' ? u(0.1, 3) : name === 'Div' ? u(0.5, 2) : u(-2, 2);
  return (): KernelCase[] => [7, 64, 1001].flatMap((n) => [
    { what: `${name} dense n=${n}`, arrays: [f(n + 1, domain), f(n, domain), out(n)], outputs: [2],
      run: (k, [a, b, y]) => k[name](dense(a!, 1), dense(b!), [n], y!) },
    { what: `${name} scalar right n=${n}`, arrays: [f(n, domain), f(1, domain), out(n)], outputs: [2],
      run: (k, [a, b, y]) => k[name](dense(a!), { data: b!, offset: 0, strides: [0] }, [n], y!) },
    { what: `${name} row broadcast 3×${n}`, arrays: [f(n, domain), f(3 * n, domain), out(3 * n)], outputs: [2],
      run: (k, [row, a, y]) => k[name]({ data: row!, offset: 0, strides: [0, 1] }, dense(a!, 0, [3, n]), [3, n], y!) },
    // layouts no dense/scalar/row loop fits: the native strided kernel
    { what: `${name} channel broadcast [3, ${n}, 5] (a conv bias)`, arrays: [f(15 * n, domain), f(n, domain), out(15 * n)], outputs: [2],
      native: STRIDED,
      run: (k, [a, b, y]) => k[name](dense(a!, 0, [3, n, 5]), { data: b!, offset: 0, strides: [0, 1, 0] }, [3, n, 5], y!) },
    { what: `${name} transposed ${n}×3 against a row`, arrays: [f(3 * n + 2, domain), f(3, domain), out(3 * n)], outputs: [2],
      native: STRIDED,
      run: (k, [a, b, y]) => k[name]({ data: a!, offset: 2, strides: [1, n] }, { data: b!, offset: 0, strides: [0, 1] }, [n, 3], y!) },
    // heads split out of [2, n, 3·4] and a [n, 4] table broadcast over batch and heads (rotary positions)
    { what: `${name} head view [2, 3, ${n}, 4] against [${n}, 4]`, arrays: [f(24 * n, domain), f(4 * n, domain), out(24 * n)], outputs: [2],
      native: STRIDED,
      run: (k, [a, b, y]) => k[name]({ data: a!, offset: 0, strides: [12 * n, 4, 12, 1] }, { data: b!, offset: 0, strides: [0, 0, 4, 1] }, [2, 3, n, 4], y!) },
    // a float32 operand against an int32 one (a mask, a count), broadcast along the last axis
    { what: `${name} float32 [${n}, 3] against int32 [${n}, 1]`, arrays: [f(3 * n, domain), ints(n, (g) => 1 + Math.floor(g.uniform() * 3)), out(3 * n)],
      outputs: [2], native: STRIDED,
      run: (k, [a, b, y]) => k[name](dense(a!, 0, [n, 3]), { data: b!, offset: 0, strides: [1, 0] }, [n, 3], y!) },
    // five axes that do not merge: beyond the strided kernel's four, so it falls back
    { what: `${name} 5 unmergeable axes`, arrays: [f(72, domain), f(72, domain), out(72)], outputs: [2],
      run: (k, [a, b, y]) => k[name]({ data: a!, offset: 0, strides: [1, 36, 2, 18, 4] }, dense(b!, 0, [2, 2, 3, 2, 3]), [2, 2, 3, 2, 3], y!) },
    ...(COMPARISONS.has(name) ? [
      { what: `${name} float32 -> int32 [${n}, 4] against a column`, arrays: [f(4 * n, u(-1, 1)), f(n, u(-1, 1)), ints(4 * n, () => -1)], outputs: [2], tol: 0,
        native: STRIDED,
        run: (k: KernelSignatures, [a, b, y]: TypedArray[]) => k[name](dense(a!, 0, [n, 4]), { data: b!, offset: 0, strides: [1, 0] }, [n, 4], y!) },
      { what: `${name} int32 -> int32 ${n}×2 transposed`, arrays: [ints(2 * n, (g) => Math.floor(g.uniform() * 3)), ints(2 * n, (g) => Math.floor(g.uniform() * 3)),
        ints(2 * n, () => -1)], outputs: [2], tol: 0, native: STRIDED,
        run: (k: KernelSignatures, [a, b, y]: TypedArray[]) => k[name]({ data: a!, offset: 0, strides: [1, n] }, dense(b!, 0, [n, 2]), [n, 2], y!) },
    ] : []),
  ]);
}

const COMPARISONS = new Set<string>(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual']);

const reduce = (name: 'Sum' | 'Max' | 'Min' | 'ArgMax' | 'ArgMin') => (): KernelCase[] =>
  [[1, 1], [3, 17], [64, 130]].map(([rows, cols]) => ({
    what: `${name} ${rows}×${cols}`, arrays: [f(rows! * cols!), name.startsWith('Arg') ? ints(rows!, () => -1) : out(rows!)], outputs: [1], tol: 1e-5,
    run: (k, [x, y]) => k[name](x!, rows!, cols!, y!),
  }));

const rows = (fn: (k: KernelSignatures, a: TypedArray[], r: number, c: number) => void, specs: (r: number, c: number) => ArraySpec[], outputs: number[], what: string) =>
  (): KernelCase[] => [[1, 5], [7, 64], [33, 257]].map(([r, c]) => ({ what: `${what} ${r}×${c}`, arrays: specs(r!, c!), outputs, run: (k, a) => fn(k, a, r!, c!) }));

/** A MatMul case; `bias`: with a Linear's bias (from offset 2 of its array), added to every row. */
function matmulCase(batch: number, m: number, n: number, kk: number, transA: boolean, transB: boolean, bShared: boolean, bias = false): KernelCase {
  return {
    what: `MatMul batch=${batch} ${m}×${kk}·${kk}×${n} tA=${transA} tB=${transB}${bShared ? ' shared b' : ''}${bias ? ' + bias' : ''}`,
    arrays: [f(batch * m * kk + 3), f((bShared ? 1 : batch) * kk * n + 1), out(batch * m * n), f(n + 2)], outputs: [2], tol: 1e-5,
    run: (k, [a, b, y, c]) => k.MatMul({
      a: a!, aOffset: 3, aBatchStride: m * kk, transA, b: b!, bOffset: 1, bBatchStride: bShared ? 0 : kk * n, transB,
      out: F(y!), batch, m, n, k: kk, ...(bias ? { bias: { data: c!, offset: 2 } } : {}),
    }),
  };
}

/** DropoutArgs for probability p. */
function dropArgs(p: number, key0: number, key1: number) {
  return { key0, key1, threshold: Math.ceil(p * 16777216), scale: 1 / (1 - p) };
}

function flashArgs(bh: number, heads: number, n: number, s: number, d: number, causal: boolean, window: number) {
  return { bh, heads, n, s, d, dv: d, scale: 1 / Math.sqrt(d), causal, window, bh0: 0, bh1: bh };
}

/**
 * FlashAttention (and its gradient) on strided operands (FlashAttentionArgs.layout) as a fused
 * projection lays them out: q, k, v the three parts of one (B, T, 3, H, d) array, out in
 * (B, T, H, d) memory, dOut contiguous per head; dq, dk, dv into a (B, T, 3, H, d) array.
 * Small (every call) and past native's small-call threshold with causal, padding and dropout.
 */
function stridedFlashCases(backward: boolean): KernelCase[] {
  return ([[2, 3, 9, 8, false, false, 0], [2, 3, 37, 16, true, true, 0.3]] as const).map(([B, H, T, d, causal, padded, p]) => {
    const a = { ...flashArgs(B * H, H, T, T, d, causal, -1), dropout: p > 0 ? dropArgs(p, 5, 77) : null };
    const proj = { batch: T * 3 * H * d, head: d, row: 3 * H * d };
    const outRows = { batch: T * H * d, head: d, row: H * d };
    const layout = { q: proj, k: proj, v: proj, out: outRows, dOut: { batch: H * T * d, head: T * d, row: d } };
    const parts = (x: TypedArray) => [0, 1, 2].map((w) => F(x).subarray(w * H * d)) as [Float32Array, Float32Array, Float32Array];
    const n = B * T * H * d;
    const pad = ints(B * T, (_g, i) => (padded && i % T >= T - 3 ? 1 : 0));
    const what = `${backward ? 'FlashAttentionGrad' : 'FlashAttention'} strided (B, T, 3, H, d) B=${B} H=${H} T=${T} d=${d} causal=${causal} padding=${padded} dropout=${p}`;
    return backward
      ? { what, needs: 'stridedAttention', tol: 1e-4, native: 'flash',
        arrays: [f(3 * n, u(-2, 2)), pad, out(n), out(B * H * T), f(n), out(3 * n)], outputs: [5],
        run: (k: KernelSignatures, [qkv, pd, o, lse, dO, dqkv]: TypedArray[]) => {
          const [q, kk, v] = parts(qkv!);
          k.FlashAttention(q, kk, v, I(pd!), { ...a, layout }, F(o!), F(lse!));
          k.FlashAttentionGrad(q, kk, v, I(pd!), F(o!), F(lse!), F(dO!), { ...a, layout }, ...parts(dqkv!));
        } }
      : { what, needs: 'stridedAttention', tol: 1e-5, native: 'flash',
        arrays: [f(3 * n, u(-2, 2)), pad, out(n), out(B * H * T)], outputs: [2, 3],
        run: (k: KernelSignatures, [qkv, pd, o, lse]: TypedArray[]) => k.FlashAttention(...parts(qkv!), I(pd!), { ...a, layout }, F(o!), F(lse!)) };
  });
}

/** Conv1dArgs with outLength from the padding on the right. */
export function convArgs(batch: number, cin: number, cout: number, groups: number, length: number, kernel: number, stride: number,
  padLeft: number, padRight: number, dilation: number): Conv1dArgs {
  const outLength = Math.floor((length + padLeft + padRight - dilation * (kernel - 1) - 1) / stride) + 1;
  return { batch, cin, cout, groups, length, kernel, outLength, stride, padLeft, dilation };
}
const CONVS: Conv1dArgs[] = [
  convArgs(2, 4, 6, 2, 11, 3, 2, 1, 1, 1),
  convArgs(3, 5, 7, 1, 13, 3, 1, 1, 1, 1), // 'same'
  convArgs(2, 6, 9, 3, 17, 4, 3, 2, 1, 2), // groups, stride, dilation, uneven padding
  convArgs(1, 3, 3, 3, 4, 5, 1, 3, 3, 1), // depthwise, padding wider than the input
  convArgs(2, 2, 3, 1, 10, 2, 2, 0, 0, 3), // no padding, dilation > stride
  convArgs(5, 16, 64, 1, 9, 3, 1, 1, 1, 1), // the char-CNN word featurizer's shape
  convArgs(3, 64, 4, 2, 4000, 5, 1, 2, 2, 1), // a column matrix over native's 2M floats: the batch in chunks
];
const convWhat = (a: Conv1dArgs) =>
  `B=${a.batch} Cin=${a.cin} Cout=${a.cout} groups=${a.groups} L=${a.length} K=${a.kernel} stride=${a.stride} padLeft=${a.padLeft} dilation=${a.dilation} -> ${a.outLength}`;
const xLen = (a: Conv1dArgs) => a.batch * a.cin * a.length;
const wLen = (a: Conv1dArgs) => a.cout * (a.cin / a.groups) * a.kernel;
const yLen = (a: Conv1dArgs) => a.batch * a.cout * a.outLength;

export const KERNEL_CASES: { [K in KernelName]: () => KernelCase[] } = {
  Copy: () => [
    { what: 'Copy transpose 5×7 float32', arrays: [f(35), out(35)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 0, strides: [1, 5] }, dense(y!, 0, [7, 5]), [7, 5]) },
    { what: 'Copy broadcast row into 4×9', arrays: [f(9), out(36)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 0, strides: [0, 1] }, dense(y!, 0, [4, 9]), [4, 9]) },
    { what: 'Copy int32 permute 2×3×4', arrays: [ints(24, (g) => Math.floor(g.uniform() * 100)), ints(24, () => -1)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 0, strides: [1, 8, 2] }, dense(y!, 0, [2, 3, 4]), [2, 3, 4]) },
    // attention's head split: (B, T, 3, H, d) read as (3, B, H, T, d), five axes that do not merge;
    // 3·5·4·37·8 = 17,760 elements, past native's piece of rows (16 Ki elements), so two tasks or more
    { what: 'Copy heads permute (B, T, 3, H, d) -> (3, B, H, T, d)', arrays: [f(17760), out(17760)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 0, strides: [4 * 8, 37 * 3 * 4 * 8, 8, 3 * 4 * 8, 1] }, dense(y!, 0, [3, 5, 4, 37, 8]), [3, 5, 4, 37, 8]) },
    // ...and back into a strided destination: a window of a larger array (offset, rows 41 apart), source from an offset
    { what: 'Copy into a strided window with offsets', arrays: [f(3 + 30 * 37), f(7 + 30 * 41)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 3, strides: [37, 1] }, { data: y!, offset: 7, strides: [41, 1] }, [30, 37]) },
    // neither side unit-stride on the last axis (a reversed-order gather into every other element)
    { what: 'Copy with no unit stride on either side', arrays: [f(600), f(1200)], outputs: [1], tol: 0, native: 'copyStrided',
      run: (k, [x, y]) => k.Copy({ data: x!, offset: 0, strides: [1, 20] }, { data: y!, offset: 0, strides: [60, 2] }, [20, 30]) },
  ],
  Fill: () => [
    ...[1, 17, 1000].map((n): KernelCase => ({ what: `Fill n=${n}`, arrays: [out(n)], outputs: [0], tol: 0, native: 'fill32', run: (k, [y]) => k.Fill(y!, 0.25) })),
    // past native's piece (16 Ki elements): several tasks; zero (a memset), a value float32 rounds, int32 ToInt32
    { what: 'Fill zeros n=40000', arrays: [f(40000)], outputs: [0], tol: 0, native: 'fill32', run: (k, [y]) => k.Fill(y!, 0) },
    { what: 'Fill 0.1 (float32-rounded) n=40000', arrays: [f(40000)], outputs: [0], tol: 0, native: 'fill32', run: (k, [y]) => k.Fill(y!, 0.1) },
    { what: 'Fill int32 -7 and 2^31 + 5 (ToInt32) n=20000', arrays: [ints(20000, () => 3), ints(20000, () => 3)], outputs: [0, 1], tol: 0, native: 'fill32',
      run: (k, [a, b]) => { k.Fill(a!, -7); k.Fill(b!, 2 ** 31 + 5); } },
  ],
  ...Object.fromEntries(UNARY_KERNELS.map((name) => [name, unaryCases(name)])) as { [K in (typeof UNARY_KERNELS)[number]]: () => KernelCase[] },
  ...Object.fromEntries(BINARY_KERNELS.map((name) => [name, binaryCases(name)])) as { [K in (typeof BINARY_KERNELS)[number]]: () => KernelCase[] },
  // the reference's x > 0 ? x : 0 on the values where a max() or a sign test would differ: NaN, -0, ±inf
  Relu: () => [...unaryCases('Relu')(), {
    what: 'Relu on NaN, ±0, ±inf and finite values, n=1003', tol: 0, native: 'unary',
    arrays: [{ dtype: 'float32', length: 1003, init: (g, i) => [NaN, -0, 0, Infinity, -Infinity, 1e-30, -1e-30][i % 9] ?? g.uniform() * 8 - 4 }, out(1003)],
    outputs: [1], run: (k, [x, y]) => k.Relu(dense(x!), [1003], y!, 0),
  }],
  GeluGrad: () => [0, 1].flatMap((approximate) => [9, 1000].map((n) => ({
    what: `GeluGrad approximate=${approximate} n=${n}`, arrays: [f(n, u(-4, 4)), f(n), out(n)], outputs: [2],
    run: (k: KernelSignatures, [x, dy, dx]: TypedArray[]) => k.GeluGrad(F(x!), F(dy!), F(dx!), approximate),
  }))),
  Where: () => [
    { what: 'Where 6×10 with a broadcast condition row', arrays: [ints(10, (g) => (g.uniform() < 0.5 ? 1 : 0)), f(60), f(60), out(60)], outputs: [3],
      tol: 0, run: (k, [c, a, b, y]) => k.Where({ data: c!, offset: 0, strides: [0, 1] }, dense(a!, 0, [6, 10]), dense(b!, 0, [6, 10]), [6, 10], y!) },
    // a padding mask [4, 9, 1] against [4, 9, 13] with a scalar: zeroPadded, maskedFill
    { what: 'Where mask [4, 9, 1] -> [4, 9, 13], scalar first', arrays: [ints(36, (g) => (g.uniform() < 0.3 ? 1 : 0)), f(1), f(468), out(468)],
      outputs: [3], tol: 0, native: 'whereStrided',
      run: (k, [c, a, b, y]) => k.Where({ data: c!, offset: 0, strides: [9, 1, 0] }, { data: a!, offset: 0, strides: [0, 0, 0] }, dense(b!, 0, [4, 9, 13]), [4, 9, 13], y!) },
    // a float32 condition (zero, -0, NaN among its values) against transposed int32 values
    { what: 'Where float32 condition, int32 values 7×5 transposed',
      arrays: [{ dtype: 'float32', length: 35, init: (g, i) => [0, -0, NaN, 0.5, -2][i % 5]! * (g.uniform() < 0.5 ? 1 : -1) }, ints(35, (g) => Math.floor(g.uniform() * 1000)),
        ints(35, (g) => -Math.floor(g.uniform() * 1000)), ints(35, () => -1)], outputs: [3], tol: 0, native: 'whereStrided',
      run: (k, [c, a, b, y]) => k.Where(dense(c!, 0, [7, 5]), { data: a!, offset: 0, strides: [1, 7] }, dense(b!, 0, [7, 5]), [7, 5], y!) },
  ],
  Sum: reduce('Sum'), Max: reduce('Max'), Min: reduce('Min'), ArgMax: reduce('ArgMax'), ArgMin: reduce('ArgMin'),
  // values from a few levels, so rows have tied maxima; a NaN in some rows
  MaxPool: () => [[1, 1], [5, 3], [300, 16], [64, 130]].map(([rows, cols]) => ({
    what: `MaxPool ${rows}×${cols} (ties, NaN)`, outputs: [1, 2], tol: 0, native: 'maxPool',
    arrays: [{ dtype: 'float32' as const, length: rows! * cols!, init: (g: Generator, i: number) => (i % 97 === 50 ? NaN : Math.floor(g.uniform() * 4) - 1) },
      out(rows!), ints(rows!, () => -1)],
    run: (k: KernelSignatures, [x, v, i]: TypedArray[]) => k.MaxPool(F(x!), rows!, cols!, F(v!), I(i!)),
  })),
  MaxPoolGrad: () => [
    ...[[1, 1], [5, 3], [300, 16], [64, 130]].map(([rows, cols]) => ({
      what: `MaxPoolGrad ${rows}×${cols}`, outputs: [2], tol: 0, native: 'maxPoolGrad',
      arrays: [f(rows!), ints(rows!, (g) => Math.floor(g.uniform() * cols!)), out(rows! * cols!)],
      run: (k: KernelSignatures, [dy, i, dx]: TypedArray[]) => k.MaxPoolGrad(F(dy!), I(i!), rows!, cols!, F(dx!)),
    })),
    // indices outside their row (not what MaxPool makes): that row's gradient stays 0, nothing is written into a neighbour
    { what: 'MaxPoolGrad 40×8 with indices outside the row', outputs: [2], tol: 0, native: 'maxPoolGrad',
      arrays: [f(40), ints(40, (g, i) => (i === 17 ? 8 : i === 30 ? -1 : Math.floor(g.uniform() * 8))), out(320)],
      run: (k: KernelSignatures, [dy, i, dx]: TypedArray[]) => k.MaxPoolGrad(F(dy!), I(i!), 40, 8, F(dx!)) },
  ],
  TopK: () => [{ what: 'TopK 4×20 k=5', arrays: [f(80), out(20), ints(20, () => -1)], outputs: [1, 2], tol: 0,
    run: (k, [x, v, i]) => k.TopK(x!, 4, 20, 5, v!, I(i!)) }],
  Cumsum: () => [false, true].map((reverse) => ({ what: `Cumsum 3×7×5 reverse=${reverse}`, arrays: [f(105), out(105)], outputs: [1],
    run: (k: KernelSignatures, [x, y]: TypedArray[]) => k.Cumsum(x!, 3, 7, 5, reverse, y!) })),
  MatMul: () => [
    matmulCase(1, 1, 1, 1, false, false, false), matmulCase(1, 5, 7, 3, false, false, false), matmulCase(1, 33, 65, 17, false, true, false),
    matmulCase(2, 13, 9, 40, true, false, false), matmulCase(3, 8, 24, 16, true, true, false), matmulCase(4, 12, 10, 6, false, false, true),
    matmulCase(1, 130, 70, 90, false, false, false),
    // Aᵀ with its rows 1030 floats apart (native packs such a block p by p: a weight gradient gᵀ·x of a wide layer),
    // a partial panel, k over two KC slices, a batch
    matmulCase(2, 1030, 37, 300, true, false, false),
    // a Linear's bias: the blocked path (over two KC slices, a batch of separate matrices and a stacked one), the
    // narrow one (n within a vector), the GEMV on B (k cut into slices across tasks) and on Bᵀ
    matmulCase(1, 33, 65, 300, false, true, false, true), matmulCase(3, 8, 24, 16, true, false, false, true),
    matmulCase(4, 12, 10, 6, false, false, true, true), matmulCase(1, 50, 7, 20, false, true, false, true),
    matmulCase(1, 1, 40, 3000, false, false, false, true), matmulCase(1, 1, 300, 700, false, true, false, true),
    matmulCase(2, 3, 5, 0, false, false, false, true), // k = 0: the bias alone
  ],
  Softmax: rows((k, [x, y], r, c) => k.Softmax(F(x!), r, c, F(y!)), (r, c) => [f(r * c, u(-6, 6)), out(r * c)], [1], 'Softmax'),
  LogSoftmax: rows((k, [x, y], r, c) => k.LogSoftmax(F(x!), r, c, F(y!)), (r, c) => [f(r * c, u(-6, 6)), out(r * c)], [1], 'LogSoftmax'),
  SoftmaxGrad: rows((k, [y, dy, dx], r, c) => k.SoftmaxGrad(F(y!), F(dy!), r, c, F(dx!)), (r, c) => [f(r * c, u(0, 1)), f(r * c), out(r * c)], [2], 'SoftmaxGrad'),
  LogSoftmaxGrad: rows((k, [y, dy, dx], r, c) => k.LogSoftmaxGrad(F(y!), F(dy!), r, c, F(dx!)), (r, c) => [f(r * c, u(-5, 0)), f(r * c), out(r * c)], [2], 'LogSoftmaxGrad'),
  LayerNorm: rows((k, [x, gm, bt, y, mean, rstd], r, c) => k.LayerNorm(F(x!), F(gm!), F(bt!), r, c, 1e-5, F(y!), F(mean!), F(rstd!)),
    (r, c) => [f(r * c, u(-3, 3)), f(c), f(c), out(r * c), out(r), out(r)], [3, 4, 5], 'LayerNorm'),
  LayerNormGrad: rows((k, [x, gm, mean, rstd, dy, dx, dg, db], r, c) => {
    // mean and rstd as the forward saves them
    k.LayerNorm(F(x!), F(gm!), null, r, c, 1e-5, F(dx!), F(mean!), F(rstd!));
    k.Fill(dg!, 0.5); k.Fill(db!, -0.5); // accumulated into (+=); through the kernel, so a device backend runs it too
    k.LayerNormGrad(F(x!), F(gm!), F(mean!), F(rstd!), F(dy!), r, c, F(dx!), F(dg!), F(db!));
  }, (r, c) => [f(r * c, u(-3, 3)), f(c), out(r), out(r), f(r * c), out(r * c), out(c), out(c)], [5, 6, 7], 'LayerNormGrad'),
  // 9×13: a row shorter than every vector; 40×301: whole vectors and a tail, rows over several pool tasks
  CrossEntropy: () => [[9, 13], [40, 301]].flatMap(([r, c]) => [0, 0.1].map((smoothing) => ({
    what: `CrossEntropy ${r}×${c} smoothing=${smoothing} with ignored rows`,
    arrays: [f(r! * c!, u(-5, 5)), ints(r!, (g, i) => (i % 4 === 3 ? -100 : Math.floor(g.uniform() * c!))), out(r!), out(r!)], outputs: [2, 3],
    native: 'crossEntropy', run: (k: KernelSignatures, [x, t, loss, lse]: TypedArray[]) => k.CrossEntropy(F(x!), I(t!), r!, c!, -100, smoothing, F(loss!), F(lse!)),
  }))),
  CrossEntropyGrad: () => [[9, 13], [40, 301]].flatMap(([r, c]) => [0, 0.1].map((smoothing) => ({
    what: `CrossEntropyGrad ${r}×${c} smoothing=${smoothing}`,
    arrays: [f(r! * c!, u(-5, 5)), ints(r!, (g, i) => (i % 4 === 3 ? -100 : Math.floor(g.uniform() * c!))), out(r!), out(r!), f(r!), out(r! * c!)], outputs: [5],
    native: 'crossEntropyGrad', run: (k: KernelSignatures, [x, t, loss, lse, dl, dx]: TypedArray[]) => {
      k.CrossEntropy(F(x!), I(t!), r!, c!, -100, smoothing, F(loss!), F(lse!));
      k.CrossEntropyGrad(F(x!), I(t!), F(lse!), F(dl!), r!, c!, -100, smoothing, F(dx!));
    },
  }))),
  Gather: () => [
    { what: 'Gather 12 ids from 10×7', arrays: [f(70), ints(12, (g) => Math.floor(g.uniform() * 10)), out(84)], outputs: [2], tol: 0, native: 'gather',
      run: (k, [t, ids, y]) => k.Gather(t!, 7, I(ids!), y!) },
    { what: 'Gather 300 ids from 50×130 (int32 rows)', arrays: [ints(6500, (g) => Math.floor(g.uniform() * 1e6) - 5e5), ints(300, (g) => Math.floor(g.uniform() * 50)), ints(39000, () => -1)],
      outputs: [2], tol: 0, native: 'gather', run: (k, [t, ids, y]) => k.Gather(t!, 130, I(ids!), y!) },
  ],
  // bit-equal: every backend adds repeated ids' rows in id order, as the reference's loop
  ScatterAdd: () => [
    { what: 'ScatterAdd 12 rows into 5×7 (repeated ids)', arrays: [f(84), ints(12, (g) => Math.floor(g.uniform() * 5)), f(35)], outputs: [2], tol: 0,
      native: 'scatterAdd', run: (k, [src, ids, y]) => k.ScatterAdd(F(src!), 7, I(ids!), F(y!)) },
    { what: 'ScatterAdd 300 rows into 7×150 (many repeats, several column strips)', arrays: [f(45000), ints(300, (g) => Math.floor(g.uniform() * 7)), f(1050)],
      outputs: [2], tol: 0, native: 'scatterAdd', run: (k, [src, ids, y]) => k.ScatterAdd(F(src!), 150, I(ids!), F(y!)) },
  ],
  AdamW: () => [1, 5].map((step) => ({
    what: `AdamW n=1003 step=${step}`, arrays: [f(1003), f(1003), f(1003), f(1003, u(0, 1))], outputs: [0, 2, 3],
    run: (k: KernelSignatures, [p, gr, m, v]: TypedArray[]) => k.AdamW(F(p!), F(gr!), F(m!), F(v!), { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step }),
  })),
  Sgd: () => [true, false].map((first) => ({
    what: `Sgd nesterov first=${first}`, arrays: [f(101), f(101), f(101)], outputs: [0, 2],
    run: (k: KernelSignatures, [p, gr, buf]: TypedArray[]) => k.Sgd(F(p!), F(gr!), F(buf!), { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, first }),
  })),
  // bit-equal everywhere: the mask is a function of the key and the index (sizes past the native piece of 16384 elements)
  Dropout: () => ([[1, 0.5, 1, 2], [17, 0.1, 0xffffffff, 0x80000000], [1003, 0.9, 12345, 0], [40000, 0.25, 0x9e3779b9, 0x7f4a7c15], [100, 1, 3, 4]] as const)
    .map(([n, p, key0, key1]) => ({
      what: `Dropout n=${n} p=${p} key=${key0},${key1}`, arrays: [f(n, u(-3, 3)), out(n)], outputs: [1], tol: 0, native: 'dropout',
      run: (k: KernelSignatures, [x, y]: TypedArray[]) => k.Dropout(F(x!), F(y!), { key0, key1, threshold: Math.ceil(p * 16777216), scale: p === 1 ? 0 : 1 / (1 - p) }),
    })),
  Conv1d: () => CONVS.map((a) => ({ what: `Conv1d ${convWhat(a)}`, arrays: [f(xLen(a)), f(wLen(a)), out(yLen(a))], outputs: [2],
    native: 'conv1d', run: (k: KernelSignatures, [x, w, y]: TypedArray[]) => k.Conv1d(F(x!), F(w!), a, F(y!)) })),
  Conv1dGradInput: () => CONVS.map((a) => ({ what: `Conv1dGradInput ${convWhat(a)}`, arrays: [f(yLen(a)), f(wLen(a)), out(xLen(a))], outputs: [2],
    native: 'conv1d', run: (k: KernelSignatures, [dy, w, dx]: TypedArray[]) => k.Conv1dGradInput(F(dy!), F(w!), a, F(dx!)) })),
  Conv1dGradWeight: () => CONVS.map((a) => ({ what: `Conv1dGradWeight ${convWhat(a)}`, arrays: [f(yLen(a)), f(xLen(a)), out(wLen(a))], outputs: [2],
    native: 'conv1d', run: (k: KernelSignatures, [dy, x, dw]: TypedArray[]) => k.Conv1dGradWeight(F(dy!), F(x!), a, F(dw!)) })),
  CausalLinearAttention: () => [[2, 9, 4, 3], [3, 40, 16, 8], [2, 33, 20, 37]].map(([bh, n, dk, dv]) => ({
    what: `CausalLinearAttention bh=${bh} n=${n} dk=${dk} dv=${dv}`, native: 'linearAttention',
    arrays: [f(bh! * n! * dk!, u(0.1, 2)), f(bh! * n! * dk!, u(0.1, 2)), f(bh! * n! * dv!), out(bh! * n! * dv!), out(bh! * n!)], outputs: [3, 4],
    run: (k: KernelSignatures, [q, kk, v, o, den]: TypedArray[]) => k.CausalLinearAttention(F(q!), F(kk!), F(v!), bh!, n!, dk!, dv!, 1e-6, F(o!), F(den!)),
  })),
  CausalLinearAttentionGrad: () => [[2, 9, 4, 3], [3, 40, 16, 8], [2, 33, 20, 37]].map(([bh, n, dk, dv]) => ({
    what: `CausalLinearAttentionGrad bh=${bh} n=${n} dk=${dk} dv=${dv}`, native: 'linearAttention',
    arrays: [f(bh! * n! * dk!, u(0.1, 2)), f(bh! * n! * dk!, u(0.1, 2)), f(bh! * n! * dv!), out(bh! * n! * dv!), out(bh! * n!), f(bh! * n! * dv!),
      out(bh! * n! * dk!), out(bh! * n! * dk!), out(bh! * n! * dv!)], outputs: [6, 7, 8], tol: 1e-4,
    run: (k: KernelSignatures, [q, kk, v, o, den, dO, dq, dk_, dv_]: TypedArray[]) => {
      k.CausalLinearAttention(F(q!), F(kk!), F(v!), bh!, n!, dk!, dv!, 1e-6, F(o!), F(den!));
      k.CausalLinearAttentionGrad(F(q!), F(kk!), F(v!), F(o!), F(den!), F(dO!), bh!, n!, dk!, dv!, F(dq!), F(dk_!), F(dv_!));
    },
  })),
  FlashAttention: () => [...([[false, -1, false], [true, -1, false], [false, 2, true], [true, 3, true]] as [boolean, number, boolean][]).map(([causal, window, padded]) => {
    const a = flashArgs(4, 2, 7, 11, 8, causal, window);
    return {
      what: `FlashAttention n=7 s=11 causal=${causal} window=${window} padding=${padded}`,
      arrays: [f(4 * 7 * 8, u(-2, 2)), f(4 * 11 * 8, u(-2, 2)), f(4 * 11 * 8), ints(2 * 11, (_g, i) => (padded && i % 11 >= 9 ? 1 : 0)), out(4 * 7 * 8), out(4 * 7)],
      outputs: [4, 5], tol: 1e-5,
      run: (k: KernelSignatures, [q, kk, v, pad, o, lse]: TypedArray[]) => k.FlashAttention(F(q!), F(kk!), F(v!), I(pad!), a, F(o!), F(lse!)),
    };
  }),
  // attention dropout: small (padding, causal) and past native's small-call threshold (rows over several vectors)
  ...([[4, 2, 7, 11, 8, true, true, 0.3], [6, 3, 37, 45, 16, false, false, 0.5]] as const).map(([bh, heads, n, s, d, causal, padded, p]) => {
    const a = { ...flashArgs(bh, heads, n, s, d, causal, -1), dropout: dropArgs(p, 0x9e3779b9, 12345) };
    return {
      what: `FlashAttention dropout p=${p} bh=${bh} n=${n} s=${s} d=${d} causal=${causal} padding=${padded}`,
      arrays: [f(bh * n * d, u(-2, 2)), f(bh * s * d, u(-2, 2)), f(bh * s * d), ints((bh / heads) * s, (_g, i) => (padded && i % s >= s - 2 ? 1 : 0)),
        out(bh * n * d), out(bh * n)],
      outputs: [4, 5], tol: 1e-5,
      run: (k: KernelSignatures, [q, kk, v, pad, o, lse]: TypedArray[]) => k.FlashAttention(F(q!), F(kk!), F(v!), I(pad!), a, F(o!), F(lse!)),
    };
  }), ...stridedFlashCases(false)],
  FlashAttentionGrad: () => [...([[false, -1, 0], [true, -1, 0], [true, 2, 0], [true, -1, 0.3], [false, 2, 0.5]] as [boolean, number, number][]).map(([causal, window, p]) => {
    const a = { ...flashArgs(4, 2, 9, 9, 8, causal, window), dropout: p > 0 ? dropArgs(p, 7, 0xdeadbeef) : null };
    return {
      what: `FlashAttentionGrad n=s=9 causal=${causal} window=${window} dropout=${p}`,
      arrays: [f(288, u(-2, 2)), f(288, u(-2, 2)), f(288), out(288), out(36), f(288), out(288), out(288), out(288)], outputs: [6, 7, 8], tol: 1e-4,
      run: (k: KernelSignatures, [q, kk, v, o, lse, dO, dq, dk_, dv_]: TypedArray[]) => {
        k.FlashAttention(F(q!), F(kk!), F(v!), null, a, F(o!), F(lse!));
        k.FlashAttentionGrad(F(q!), F(kk!), F(v!), null, F(o!), F(lse!), F(dO!), a, F(dq!), F(dk_!), F(dv_!));
      },
    };
  }).concat((() => {
    // past native's small-call threshold, with dropout and key padding
    const [bh, heads, n, s, d] = [6, 3, 37, 45, 16];
    const a = { ...flashArgs(bh, heads, n, s, d, false, -1), dropout: dropArgs(0.25, 31, 41) };
    return [{
      what: `FlashAttentionGrad dropout=0.25 bh=${bh} n=${n} s=${s} d=${d} padding`,
      arrays: [f(bh * n * d, u(-2, 2)), f(bh * s * d, u(-2, 2)), f(bh * s * d), ints((bh / heads) * s, (_g, i) => (i % s >= s - 3 ? 1 : 0)),
        out(bh * n * d), out(bh * n), f(bh * n * d), out(bh * n * d), out(bh * s * d), out(bh * s * d)],
      outputs: [7, 8, 9], tol: 1e-4,
      run: (k: KernelSignatures, [q, kk, v, pad, o, lse, dO, dq, dk_, dv_]: TypedArray[]) => {
        k.FlashAttention(F(q!), F(kk!), F(v!), I(pad!), a, F(o!), F(lse!));
        k.FlashAttentionGrad(F(q!), F(kk!), F(v!), I(pad!), F(o!), F(lse!), F(dO!), a, F(dq!), F(dk_!), F(dv_!));
      },
    }];
  })()), ...stridedFlashCases(true)],
  // optional in the contract (native has it, the reference does not: nothing to compare with
  // here); test/ops/kv-attention.test.ts checks it against the reference function and the unfused path
  KVAttentionStep: () => [],
  LinearAttentionStep: () => [{ what: 'LinearAttentionStep bh=6 dk=8 dv=5, 3 steps',
    arrays: [f(48, u(0.1, 2)), f(48, u(0.1, 2)), f(30), f(6 * 8 * 5, u(0, 1)), f(48, u(0.5, 2)), out(30)], outputs: [3, 4, 5], tol: 1e-5,
    run: (k, [q, kk, v, S, z, o]) => { for (let t = 0; t < 3; t++) k.LinearAttentionStep(F(q!), F(kk!), F(v!), F(S!), F(z!), 6, 8, 5, 1e-6, F(o!)); } }],
};

/** The case's input values from `seed` (outputs start as NaN / -1), as host arrays. */
function caseInputs(c: KernelCase, seed: number): TypedArray[] {
  const g = new Generator(seed);
  return c.arrays.map((s) => {
    const a = s.dtype === 'int32' ? new Int32Array(s.length) : new Float32Array(s.length);
    for (let j = 0; j < a.length; j++) a[j] = s.init ? s.init(g, j) : s.dtype === 'int32' ? -1 : NaN;
    return a;
  });
}

/**
 * Runs one case on a device backend (a GPU): the same seeded inputs written into its buffers,
 * its own kernels only (no reference fallback), the outputs read back.
 */
export async function runCaseOnDevice(backend: Backend, c: KernelCase, seed: number): Promise<TypedArray[]> {
  const allocations = c.arrays.map((s) => backend.allocator.allocate(s.dtype, s.length));
  try {
    caseInputs(c, seed).forEach((values, i) => backend.write!(allocations[i]!.view(), values, 0));
    c.run(backend.kernels as KernelSignatures, allocations.map((a) => a.view()));
    return await Promise.all(c.outputs.map((i) => backend.read!(allocations[i]!.view(), c.arrays[i]!.dtype, 0, c.arrays[i]!.length)));
  } finally {
    for (const a of allocations) a.free();
  }
}

/** Runs one case on a backend: allocates its arrays there, fills them from `seed`, returns copies of the outputs. */
export function runCase(backend: Backend, c: KernelCase, seed: number): TypedArray[] {
  const allocations = c.arrays.map((s) => backend.allocator.allocate(s.dtype, s.length));
  try {
    const g = new Generator(seed);
    c.arrays.forEach((s, i) => {
      const a = allocations[i]!.view();
      for (let j = 0; j < a.length; j++) a[j] = s.init ? s.init(g, j) : s.dtype === 'int32' ? -1 : NaN;
    });
    // views read after every allocation: a WebAssembly memory may have grown and moved
    const kernels = { ...referenceBackend.kernels, ...backend.kernels } as KernelSignatures;
    c.run(kernels, allocations.map((a) => a.view()));
    return c.outputs.map((i) => allocations[i]!.view().slice());
  } finally {
    for (const a of allocations) a.free();
  }
}
