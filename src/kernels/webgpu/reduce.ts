// Row reductions on WebGPU (one workgroup per row, a tree in workgroup memory), top-k (one
// thread per row, k selection passes) and cumulative sums (one thread per column).
import type { KernelSignatures, ReduceKernel } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import type { DType } from '../../core/dtype.js';
import { buf, grid, INDEX, rowGrid, ty, WG, type GpuBuf } from './util.js';

type Extreme = 'Max' | 'Min' | 'ArgMax' | 'ArgMin';

export function reduceKernels(dev: GpuDevice): Partial<KernelSignatures> {
  const k: Partial<KernelSignatures> = {};
  // one thread per row, no workgroup memory (CPU-emulated adapters: see GpuDevice.shared)
  const serial = (key: string, xt: DType, ot: DType, body: string, xb: GpuBuf, o: GpuBuf, rows: number, cols: number, extra = ''): void => {
    const spec: ShaderSpec = {
      key: `${key}:serial`,
      fields: [['rows', 'u32'], ['cols', 'u32']],
      buffers: [['xs', ty(xt), false], ['out', ty(ot), true]],
      code: `${INDEX}${extra}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gidx(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  ${body}
}`,
    };
    dev.dispatch(spec, { rows, cols }, [{ b: xb }, { b: o, write: true }], grid(rows));
  };

  k.Sum = (x, rows, cols, out) => {
    const xb = buf(x);
    const o = buf(out);
    const T = ty(xb.dtype);
    if (!dev.shared) return serial(`Sum:${xb.dtype}:${o.dtype}`, xb.dtype, o.dtype, `var s: ${T} = ${T}(0);
  for (var c = 0u; c < p.cols; c++) { s += xs[base + c]; }
  out[r] = ${ty(o.dtype)}(s);`, xb, o, rows, cols);
    const spec: ShaderSpec = {
      key: `Sum:${xb.dtype}:${o.dtype}`,
      fields: [['rows', 'u32'], ['cols', 'u32']],
      buffers: [['xs', T, false], ['out', ty(o.dtype), true]],
      code: `${INDEX}
var<workgroup> part: array<${T}, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = row_id(wid, nwg);
  var s: ${T} = ${T}(0);
  if (r < p.rows) {
    for (var c = t; c < p.cols; c += ${WG}u) { s += xs[r * p.cols + c]; }
  }
  part[t] = s;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (t < w) { part[t] += part[t + w]; }
    workgroupBarrier();
  }
  if (t == 0u && r < p.rows) { out[r] = ${ty(o.dtype)}(part[0]); }
}`,
    };
    dev.dispatch(spec, { rows, cols }, [{ b: xb }, { b: o, write: true }], rowGrid(rows));
  };

  const extreme = (name: Extreme): ReduceKernel => (x, rows, cols, out) => {
    const xb = buf(x);
    const o = buf(out);
    const T = ty(xb.dtype);
    const better = name === 'Max' || name === 'ArgMax' ? '>' : '<';
    const nanCheck = T === 'f32' ? 'is_nan' : 'no_nan';
    const beats = `
fn no_nan(x: i32) -> bool { return false; }
// does (v, i) beat (w, j)? NaN first (it propagates), then the better value, then the lower index
fn beats(v: ${T}, i: u32, w: ${T}, j: u32) -> bool {
  if (i == 0xffffffffu) { return false; }
  if (j == 0xffffffffu) { return true; }
  let vn = ${nanCheck}(v);
  let wn = ${nanCheck}(w);
  if (vn || wn) { return (vn && !wn) || (vn && wn && i < j); }
  return v ${better} w || (v == w && i < j);
}`;
    const result = name.startsWith('Arg') ? 'i32(at)' : `${ty(o.dtype)}(best)`;
    if (!dev.shared) return serial(`${name}:${xb.dtype}:${o.dtype}`, xb.dtype, o.dtype, `var best: ${T} = ${T}(0);
  var at = 0xffffffffu;
  for (var c = 0u; c < p.cols; c++) {
    let v = xs[base + c];
    if (beats(v, c, best, at)) { best = v; at = c; }
  }
  out[r] = ${result};`, xb, o, rows, cols, beats);
    const spec: ShaderSpec = {
      key: `${name}:${xb.dtype}:${o.dtype}`,
      fields: [['rows', 'u32'], ['cols', 'u32']],
      buffers: [['xs', T, false], ['out', ty(o.dtype), true]],
      code: `${INDEX}${beats}
var<workgroup> bv: array<${T}, ${WG}>;
var<workgroup> bi: array<u32, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = row_id(wid, nwg);
  var best: ${T} = ${T}(0);
  var at = 0xffffffffu;
  if (r < p.rows) {
    for (var c = t; c < p.cols; c += ${WG}u) {
      let v = xs[r * p.cols + c];
      if (beats(v, c, best, at)) { best = v; at = c; }
    }
  }
  bv[t] = best;
  bi[t] = at;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w / 2u) {
    if (t < w && beats(bv[t + w], bi[t + w], bv[t], bi[t])) { bv[t] = bv[t + w]; bi[t] = bi[t + w]; }
    workgroupBarrier();
  }
  if (t == 0u && r < p.rows) { out[r] = ${name.startsWith('Arg') ? 'i32(bi[0])' : `${ty(o.dtype)}(bv[0])`}; }
}`,
    };
    dev.dispatch(spec, { rows, cols }, [{ b: xb }, { b: o, write: true }], rowGrid(rows));
  };
  k.Max = extreme('Max');
  k.Min = extreme('Min');
  k.ArgMax = extreme('ArgMax');
  k.ArgMin = extreme('ArgMin');

  k.TopK = (x, rows, cols, kk, values, indices) => {
    const xb = buf(x);
    const vb = buf(values);
    const T = ty(xb.dtype);
    const spec: ShaderSpec = {
      key: `TopK:${xb.dtype}:${vb.dtype}`,
      fields: [['rows', 'u32'], ['cols', 'u32'], ['k', 'u32']],
      buffers: [['xs', T, false], ['vals', ty(vb.dtype), true], ['idx', 'i32', true]],
      code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gidx(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var pv: ${T} = ${T}(0);
  var pi = -1;
  // pass s takes the largest element ranked after the previous pick (value descending, index ascending)
  for (var s = 0u; s < p.k; s++) {
    var bvv: ${T} = ${T}(0);
    var bii = -1;
    for (var c = 0; c < i32(p.cols); c++) {
      let v = xs[base + u32(c)];
      let after = pi < 0 || v < pv || (v == pv && c > pi);
      if (after && (bii < 0 || v > bvv)) { bvv = v; bii = c; }
    }
    vals[r * p.k + s] = ${ty(vb.dtype)}(bvv);
    idx[r * p.k + s] = bii;
    pv = bvv;
    pi = bii;
  }
}`,
    };
    dev.dispatch(spec, { rows, cols, k: kk }, [{ b: xb }, { b: vb, write: true }, { b: buf(indices), write: true }], grid(rows));
  };

  // one thread per row: the rows are many and short (a word's characters, a sequence's positions)
  k.MaxPool = (x, rows, cols, values, indices) => {
    const spec: ShaderSpec = {
      key: 'MaxPool',
      fields: [['rows', 'u32'], ['cols', 'u32']],
      buffers: [['xs', 'f32', false], ['vals', 'f32', true], ['idx', 'i32', true]],
      code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gidx(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var best = xs[base];
  var at = 0u;
  // the first of equal maxima; a NaN wins (the first one), as ArgMax
  for (var c = 1u; c < p.cols && !is_nan(best); c++) {
    let v = xs[base + c];
    if (v > best || is_nan(v)) { best = v; at = c; }
  }
  vals[r] = best;
  idx[r] = i32(at);
}`,
    };
    dev.dispatch(spec, { rows, cols }, [{ b: buf(x) }, { b: buf(values), write: true }, { b: buf(indices), write: true }], grid(rows));
  };

  // one thread per element of dx: the row's gradient where the index points, 0 elsewhere
  k.MaxPoolGrad = (dy, indices, rows, cols, dx) => {
    const spec: ShaderSpec = {
      key: 'MaxPoolGrad',
      fields: [['rows', 'u32'], ['cols', 'u32']],
      buffers: [['dy', 'f32', false], ['idx', 'i32', false], ['dx', 'f32', true]],
      code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.rows * p.cols) { return; }
  let r = i / p.cols;
  dx[i] = select(0.0, dy[r], i32(i - r * p.cols) == idx[r]);
}`,
    };
    dev.dispatch(spec, { rows, cols }, [{ b: buf(dy) }, { b: buf(indices) }, { b: buf(dx), write: true }], grid(rows * cols));
  };

  k.Cumsum = (x, outer, size, inner, reverse, out) => {
    const xb = buf(x);
    const o = buf(out);
    const T = ty(xb.dtype);
    const spec: ShaderSpec = {
      key: `Cumsum:${xb.dtype}:${o.dtype}`,
      fields: [['outer', 'u32'], ['size', 'u32'], ['inner', 'u32'], ['reverse', 'u32']],
      buffers: [['xs', T, false], ['out', ty(o.dtype), true]],
      code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gidx(gid, nwg);
  if (t >= p.outer * p.inner) { return; }
  let o = t / p.inner;
  let i = t % p.inner;
  var acc: ${T} = ${T}(0);
  for (var s = 0u; s < p.size; s++) {
    let row = select(s, p.size - 1u - s, p.reverse != 0u);
    let at = (o * p.size + row) * p.inner + i;
    acc += xs[at];
    out[at] = ${ty(o.dtype)}(acc);
  }
}`,
    };
    dev.dispatch(spec, { outer, size, inner, reverse: reverse ? 1 : 0 }, [{ b: xb }, { b: o, write: true }], grid(outer * inner));
  };

  return k;
}
