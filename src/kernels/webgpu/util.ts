// Shared pieces of the WGSL kernels: the 1-d launch over many elements, dtype names, and the
// strided-offset and NaN helpers every elementwise shader uses.
import type { DType } from '../../core/dtype.js';
import { QkvError } from '../../core/errors.js';
import type { Shape } from '../../core/shape.js';
import type { Strided } from '../contract.js';
import { buf, type GpuBuf } from './device.js';

/** Threads per workgroup of the 1-d kernels. */
export const WG = 256;
/** The most axes a strided kernel walks (shape and strides travel as 8 int32s). */
export const MAX_RANK = 8;

/** Workgroups for `n` threads of WG each: x up to 65535, the rest in y (shaders use `gidx()`). */
export function grid(n: number): [number, number] {
  const groups = Math.ceil(n / WG);
  if (groups <= 65535) return [groups, 1];
  return [65535, Math.ceil(groups / 65535)];
}

/** Workgroups for `n` independent rows, one workgroup each (shaders use `row_id()`). */
export function rowGrid(n: number): [number, number] {
  if (n <= 65535) return [n, 1];
  return [65535, Math.ceil(n / 65535)];
}

export const ty = (d: DType): string => (d === 'int32' ? 'i32' : 'f32');

/** WGSL: the flat thread id of a grid() launch, and the row of a rowGrid() launch. */
export const INDEX = /* wgsl */ `
fn gidx(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
fn row_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// non-finite values from private variables: WGSL refuses them as constant expressions
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<private> POS_INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS); }
fn pos_inf() -> f32 { return bitcast<f32>(POS_INF_BITS); }
fn nan_() -> f32 { return bitcast<f32>(NAN_BITS); }
`;

/**
 * WGSL: `fn off_<name>(i: u32) -> i32`, the element of flat index i of p.shape in operand <name>,
 * unrolled over the `rank` axes (the key of a shader using it must hold the rank): constant
 * indices into the uniforms, where a loop's dynamic ones made every copy on SwiftShader about
 * 10× slower (a strided copy was most of a small GPT's forward there).
 */
export function offsetFn(name: string, rank: number): string {
  const at = (d: number) => `[${d >> 2}].${'xyzw'[d & 3]}`;
  const axes: string[] = [];
  for (let d = rank - 1; d >= 1; d--) {
    axes.push(`  { let n = u32(p.shape${at(d)}); let q = rem / n; o += i32(rem - q * n) * p.${name}Str${at(d)}; rem = q; }`);
  }
  if (rank >= 1) axes.push(`  o += i32(rem) * p.${name}Str${at(0)};`);
  return /* wgsl */ `
fn off_${name}(i: u32) -> i32 {
  var rem = i;
  var o = p.${name}Off;
${axes.join('\n')}
  return o;
}`;
}

/** Drops size-1 axes (their strides do not matter) and checks the rank fits. */
export function squeeze(shape: Shape, ...ops: Strided[]): { shape: number[]; strides: number[][] } {
  const keep = shape.map((n, i) => (n !== 1 ? i : -1)).filter((i) => i >= 0);
  // merge neighbours that are contiguous in every operand (fewer div/mods per element)
  const outShape: number[] = [];
  const outStrides: number[][] = ops.map(() => []);
  for (const i of keep) {
    const last = outShape.length - 1;
    if (last >= 0 && ops.every((s, k) => outStrides[k]![last] === s.strides[i]! * shape[i]!)) {
      outShape[last] = outShape[last]! * shape[i]!;
      ops.forEach((s, k) => (outStrides[k]![last] = s.strides[i]!));
    } else {
      outShape.push(shape[i]!);
      ops.forEach((s, k) => outStrides[k]!.push(s.strides[i]!));
    }
  }
  if (outShape.length > MAX_RANK) throw new QkvError(`webgpu: a strided view of ${shape.length} axes that do not merge (at most ${MAX_RANK}); call contiguous() first`);
  return { shape: outShape, strides: outStrides };
}

export { buf };
export type { GpuBuf };
