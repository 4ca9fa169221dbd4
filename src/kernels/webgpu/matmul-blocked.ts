// The matrix product for CPU-emulated adapters (SwiftShader, llvmpipe): no workgroup memory and
// no barriers (there a barrier switches coroutines and costs more than it saves), each thread a
// block of rows×cols outputs held in registers. SwiftShader runs a shader's invocations as the
// lanes of a CPU vector, and every load from a storage buffer is a gather with a bounds check
// per lane, many instructions next to one multiply-add: what a product costs is the elements
// loaded per multiply-add, rows + cols per k for rows×cols of them (one output per thread loads
// 2 for 1). k is unrolled by 4; operands whose layout allows it are read as vec4s (one index and
// bounds computation for 4 elements). Rows and columns past the edge read the last row or
// column (no branch inside the loop) and are not stored. Each output is one fma chain in k
// order, as the tiled kernel computes it, so both shapes give the same bits.
import type { DType } from '../../core/dtype.js';
import type { MatMulArgs } from '../contract.js';
import type { FieldType, GpuDevice, ShaderSpec } from './device.js';
import { buf, ty } from './util.js';

/** The block each thread computes: rows × cols outputs (both multiples of 4: cols/4 vec4 accumulators per row). */
export const ROWS = 4;
export const COLS = 4;
/**
 * Threads per workgroup. SwiftShader runs each workgroup on one CPU thread; in one Chromium page
 * (the issue-21 bench), 64 was ahead of 256 at n = 512 twice and level at 256 and 1024 (4×4
 * blocks, 2026-12-07, a busy 2-core machine; Node's Dawn leaned the other way), and small
 * products spread over more CPU threads.
 */
export const WG = 64;

/** Which variant of the shader a product takes: transposes, operand types, vec4 reads, block and workgroup sizes. */
export interface BlockedVariant {
  transA: boolean;
  transB: boolean;
  at: string;
  bt: string;
  /** A read as vec4s: 4 consecutive k of a row (not transposed) or 4 consecutive rows at one k (transposed). */
  vecA: boolean;
  /** B read as vec4s: 4 consecutive columns at one k (not transposed) or 4 consecutive k of a column (transposed). */
  vecB: boolean;
  /** The bias's WGSL type (a Linear's bias, added as each output is stored), or null: none. */
  biasT: string | null;
  rows: number;
  cols: number;
  wg: number;
}

export interface BlockSize { rows: number; cols: number; wg: number }

const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);

/** The variant for these arguments: vec4 reads where the layout keeps every vec4 inside one row of the operand and 16-byte aligned. */
export function blockedVariant(x: MatMulArgs, aType: DType, bType: DType, size: BlockSize = { rows: ROWS, cols: COLS, wg: WG }, biasType: DType | null = null): BlockedVariant {
  // a vec4 along k needs k % 4 == 0; along rows (A transposed) m % 4 == 0; along columns n % 4 == 0
  const vecA = aligned(x.aOffset, x.aBatchStride) && (x.transA ? x.m % 4 === 0 : x.k % 4 === 0);
  const vecB = aligned(x.bOffset, x.bBatchStride) && (x.transB ? x.k % 4 === 0 : x.n % 4 === 0);
  return { transA: x.transA, transB: x.transB, at: ty(aType), bt: ty(bType), vecA, vecB, biasT: biasType ? ty(biasType) : null, ...size };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const C = 'xyzw';

/**
 * WGSL. Per thread: a pointer per row of A (or per group of 4 rows when A is transposed) and per
 * column of B (or per group of 4 columns when B is not transposed), each advanced by a constant
 * per k; `acc<r>_<g>` holds row r's outputs in columns 4g..4g+3 of the block.
 */
export function blockedSpec(v: BlockedVariant): ShaderSpec {
  const { transA, transB, vecA, vecB, rows, cols, wg } = v;
  const R = range(rows);
  const RG = range(rows / 4); // groups of 4 rows
  const J = range(cols);
  const G = range(cols / 4); // groups of 4 columns
  const T = range(4);
  const f = (t: string, e: string) => (t === 'f32' ? e : `f32(${e})`);
  const f4 = (t: string, e: string) => (t === 'f32' ? e : `vec4<f32>(${e})`);
  // a Linear's bias, added to column c of the block as it is stored
  const biasAt = (c: number) => (v.biasT ? ` + ${f(v.biasT, `bias[p.biasOff + j0 + ${c}u]`)}` : '');

  // --- set-up: where each operand's streams start (element or vec4 index) and how far they move per k
  const setup: string[] = [];
  if (!transA) {
    // A[i][k] at aBase + i*K + k: a pointer per row, +1 per k (vec4: +1 per 4 k)
    for (const r of R) setup.push(`var pa${r} = ${vecA ? `(aBase + row${r} * p.k) / 4u` : `aBase + row${r} * p.k`};`);
  } else {
    // A[i][k] at aBase + k*M + i: +M per k; as vec4s a pointer per 4 rows (a group past the edge reads the last 4 rows)
    if (vecA) for (const g of RG) setup.push(`var pa${g} = (aBase + min(i0 + ${4 * g}u, p.m - 4u)) / 4u;`);
    else setup.push('var pa = aBase;');
    setup.push(`let sa = ${vecA ? 'p.m / 4u' : 'p.m'};`);
  }
  if (!transB) {
    // B[k][j] at bBase + k*N + j: +N per k; as vec4s a pointer per 4 columns (a group past the edge reads the last 4)
    if (vecB) for (const g of G) setup.push(`var pb${g} = (bBase + min(j0 + ${4 * g}u, p.n - 4u)) / 4u;`);
    else setup.push('var pb = bBase;');
    setup.push(`let sb = ${vecB ? 'p.n / 4u' : 'p.n'};`);
  } else {
    // B[k][j] at bBase + j*K + k: a pointer per column, +1 per k (vec4: +1 per 4 k)
    for (const c of J) setup.push(`var pb${c} = ${vecB ? `(bBase + col${c} * p.k) / 4u` : `bBase + col${c} * p.k`};`);
  }

  // --- one step over `n` consecutive k (4 in the unrolled loop, 1 in the tail): A into a<r>_<t>,
  // B into b<t>_<g> (columns 4g..4g+3 at k + t, a vec4), then the fmas
  const step = (n: number): string => {
    const out: string[] = [];
    const ts = T.slice(0, n);
    if (!transA) {
      for (const r of R) {
        if (vecA) { // n == 4 here (a vec4 along k needs k % 4 == 0: no tail)
          out.push(`let av${r} = ${f4(v.at, `a4[pa${r}]`)}; pa${r} += 1u;`);
          for (const t of ts) out.push(`let a${r}_${t} = av${r}.${C[t]};`);
        } else {
          for (const t of ts) out.push(`let a${r}_${t} = ${f(v.at, `a[pa${r} + ${t}u]`)};`);
          out.push(`pa${r} += ${n}u;`);
        }
      }
    } else {
      for (const t of ts) {
        if (vecA) {
          for (const g of RG) out.push(`let av${g}_${t} = ${f4(v.at, `a4[pa${g}]`)}; pa${g} += sa;`);
          for (const r of R) out.push(`let a${r}_${t} = av${r >> 2}_${t}.${C[r % 4]};`);
        } else {
          for (const r of R) out.push(`let a${r}_${t} = ${f(v.at, `a[pa + row${r}]`)};`);
          out.push('pa += sa;');
        }
      }
    }
    if (!transB) {
      for (const t of ts) {
        if (vecB) for (const g of G) out.push(`let b${t}_${g} = ${f4(v.bt, `b4[pb${g}]`)}; pb${g} += sb;`);
        else {
          for (const g of G) out.push(`let b${t}_${g} = vec4<f32>(${T.map((c) => f(v.bt, `b[pb + col${4 * g + c}]`)).join(', ')});`);
          out.push('pb += sb;');
        }
      }
    } else if (vecB) { // n == 4: a vec4 along k per column, regrouped by k
      for (const c of J) out.push(`let bv${c} = ${f4(v.bt, `b4[pb${c}]`)}; pb${c} += 1u;`);
      for (const t of ts) for (const g of G) out.push(`let b${t}_${g} = vec4<f32>(${T.map((c) => `bv${4 * g + c}.${C[t]}`).join(', ')});`);
    } else {
      for (const t of ts) for (const g of G) out.push(`let b${t}_${g} = vec4<f32>(${T.map((c) => f(v.bt, `b[pb${4 * g + c} + ${t}u]`)).join(', ')});`);
      for (const c of J) out.push(`pb${c} += ${n}u;`);
    }
    // k in order for every output: one fma chain, as in the tiled kernel
    for (const t of ts) for (const r of R) for (const g of G) out.push(`acc${r}_${g} = fma(vec4<f32>(a${r}_${t}), b${t}_${g}, acc${r}_${g});`);
    return out.map((l) => `    ${l}`).join('\n');
  };
  const noTail = (vecA && !transA) || (vecB && transB); // a vec4 along k: k % 4 == 0

  const code = /* wgsl */ `
@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * ${wg}u;
  if (e >= p.threads) { return; }
  // thread e: column block e % nb, then row blocks, then the batch (neighbouring lanes share A's rows)
  let cb = e % p.nb;
  let rb = (e / p.nb) % p.mb;
  let batch = e / (p.nb * p.mb);
  let i0 = rb * ${rows}u;
  let j0 = cb * ${cols}u;
  let aBase = p.aOff + batch * p.aBS;
  let bBase = p.bOff + batch * p.bBS;
  // rows and columns past the edge read the last one (branch-free loads) and are not stored
${R.map((r) => `  let row${r} = min(i0 + ${r}u, p.m - 1u);`).join('\n')}
${J.map((c) => `  let col${c} = min(j0 + ${c}u, p.n - 1u);`).join('\n')}
${setup.map((l) => `  ${l}`).join('\n')}
${R.flatMap((r) => G.map((g) => `  var acc${r}_${g} = vec4<f32>(0.0);`)).join('\n')}
  let k4 = p.k & ~3u;
  for (var kk = 0u; kk < k4; kk += 4u) {
${step(4)}
  }
${noTail ? '' : `  for (var kk = k4; kk < p.k; kk++) {\n${step(1)}\n  }`}
  let oBase = batch * p.m * p.n;
${R.map((r) => `  if (i0 + ${r}u < p.m) {
    let o = oBase + (i0 + ${r}u) * p.n + j0;
${J.map((c) => `    ${c === 0 ? '' : `if (j0 + ${c}u < p.n) { `}out[o + ${c}u] = acc${r}_${c >> 2}.${C[c % 4]}${biasAt(c)};${c === 0 ? '' : ' }'}`).join('\n')}
  }`).join('\n')}
}`;
  return {
    key: `MatMul:blocked:${rows}x${cols}:${wg}:${transA}:${transB}:${v.at}:${v.bt}:${vecA}:${vecB}:${v.biasT}`,
    fields: [['m', 'u32'], ['n', 'u32'], ['k', 'u32'], ['aOff', 'u32'], ['aBS', 'u32'], ['bOff', 'u32'], ['bBS', 'u32'],
      ['nb', 'u32'], ['mb', 'u32'], ['threads', 'u32'], ...(v.biasT ? [['biasOff', 'u32'] as [string, FieldType]] : [])],
    buffers: [[vecA ? 'a4' : 'a', vecA ? `vec4<${v.at}>` : v.at, false], [vecB ? 'b4' : 'b', vecB ? `vec4<${v.bt}>` : v.bt, false], ['out', 'f32', true],
      ...(v.biasT ? [['bias', v.biasT, false] as [string, string, boolean]] : [])],
    code,
  };
}

/** Queues the blocked product (CPU-emulated adapters); a block size other than the default is for tuning. */
export function blockedMatMul(dev: GpuDevice, x: MatMulArgs, tuned?: BlockSize): void {
  const a = buf(x.a);
  const b = buf(x.b);
  const size = tuned ?? { rows: ROWS, cols: COLS, wg: WG };
  const bias = x.bias ? buf(x.bias.data) : null;
  const v = blockedVariant(x, a.dtype, b.dtype, size, bias ? bias.dtype : null);
  const nb = Math.ceil(x.n / size.cols);
  const mb = Math.ceil(x.m / size.rows);
  const threads = x.batch * mb * nb;
  const groups = Math.ceil(threads / size.wg);
  const grid: [number, number] = groups <= 65535 ? [groups, 1] : [65535, Math.ceil(groups / 65535)];
  dev.dispatch(blockedSpec(v),
    { m: x.m, n: x.n, k: x.k, aOff: x.aOffset, aBS: x.aBatchStride, bOff: x.bOffset, bBS: x.bBatchStride, nb, mb, threads, ...(x.bias ? { biasOff: x.bias.offset } : {}) },
    [{ b: a }, { b }, { b: buf(x.out), write: true }, ...(bias ? [{ b: bias }] : [])], grid);
}
