// Fused softmax attention on WebGPU, FlashAttention-style: one thread per query (forward, dq)
// or per key (dk, dv), 64 to a workgroup, the other side streamed through workgroup memory a
// tile at a time with an online softmax; the n×s score matrix never exists. Shaders are
// specialised on the head widths d and dv (private arrays need constant sizes).
// Visibility as the contract says: causal, a window, key padding, a cached past (s > n). Attention
// dropout multiplies weight (b, i, j) by Dropout's mask element (b·n + i)·s + j (zf below).
import { QkvError } from '../../core/errors.js';
import type { FlashAttentionArgs, KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, WG } from './util.js';

const BQ = 64; // threads (queries or keys) per workgroup
const MAX_D = 256;
const SHARED = 16000; // bytes of workgroup memory a tile may use (WebGPU guarantees 16384)

/** Rows per tile of the other side: as many as fit (at most 32). */
function tileRows(widthFloats: number): number {
  let t = 32;
  while (t > 1 && t * widthFloats * 4 > SHARED) t /= 2;
  return t;
}

const FIELDS: ShaderSpec['fields'] = [['n', 'u32'], ['s', 'u32'], ['heads', 'u32'], ['scale', 'f32'], ['causal', 'u32'],
  ['window', 'i32'], ['hasPad', 'u32'], ['bh0', 'u32'], ['rows', 'u32'],
  ['drop', 'u32'], ['dropKey0', 'u32'], ['dropKey1', 'u32'], ['dropThreshold', 'u32'], ['dropScale', 'f32']];

/** WGSL: does query position pos see key j of slice b? */
const SEES = /* wgsl */ `
fn sees(b: u32, pos: i32, j: i32) -> bool {
  if (j < 0 || j >= i32(p.s)) { return false; }
  if (p.causal != 0u && j > pos) { return false; }
  if (p.window >= 0 && abs(pos - j) > p.window) { return false; }
  if (p.hasPad != 0u && pad[(b / p.heads) * p.s + u32(j)] != 0) { return false; }
  return true;
}
fn is_neg_inf(x: f32) -> bool { return bitcast<u32>(x) == 0xff800000u; }
fn lowbias32(v: u32) -> u32 {
  var x = v ^ (v >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}
// dropout's factor of weight (b, i, j): 1 without dropout (u32 products wrap, as the index is taken mod 2^32)
fn zf(b: u32, i: u32, j: u32) -> f32 {
  if (p.drop == 0u) { return 1.0; }
  let h = lowbias32(lowbias32(((b * p.n + i) * p.s + j) ^ p.dropKey0) ^ p.dropKey1);
  return select(0.0, p.dropScale, (h >> 8u) >= p.dropThreshold);
}`;

/** WGSL: [lo, hi) of the keys some query in [i0, i1) may see by causal/window (workgroup-uniform). */
const KEY_RANGE = /* wgsl */ `
fn key_lo(i0: u32) -> i32 {
  let shift = i32(p.s) - i32(p.n);
  var lo = 0;
  if (p.window >= 0) { lo = max(lo, i32(i0) + shift - p.window); }
  return lo;
}
fn key_hi(i1: u32) -> i32 {
  let shift = i32(p.s) - i32(p.n);
  var hi = i32(p.s);
  if (p.causal != 0u) { hi = min(hi, i32(i1) - 1 + shift + 1); }
  if (p.window >= 0) { hi = min(hi, i32(i1) - 1 + shift + p.window + 1); }
  return hi;
}`;


/**
 * The other side's tile, element (row jj of the tile at j0, column c): from workgroup memory
 * where the tile was staged (GPUs), or straight from the buffer (CPU-emulated adapters, where
 * barriers cost more than they save; see GpuDevice.shared).
 */
function kvTiles(shared: boolean, bc: number, d: number, dv: number): string {
  return shared ? `
var<workgroup> ks: array<f32, ${bc * d}>;
var<workgroup> vs: array<f32, ${bc * dv}>;
fn kt(b: u32, j0: i32, jj: u32, c: u32) -> f32 { return ks[jj * D + c]; }
fn vt(b: u32, j0: i32, jj: u32, c: u32) -> f32 { return vs[jj * DV + c]; }` : `
fn kt(b: u32, j0: i32, jj: u32, c: u32) -> f32 { return k[(b * p.s + u32(j0) + jj) * D + c]; }
fn vt(b: u32, j0: i32, jj: u32, c: u32) -> f32 { return v[(b * p.s + u32(j0) + jj) * DV + c]; }`;
}
const LOAD_KV = `
    for (var e = t; e < BC * D; e += ${BQ}u) {
      let j = u32(j0) + e / D;
      ks[e] = select(0.0, k[(b * p.s + j) * D + e % D], j < p.s);
    }
    for (var e = t; e < BC * DV; e += ${BQ}u) {
      let j = u32(j0) + e / DV;
      vs[e] = select(0.0, v[(b * p.s + j) * DV + e % DV], j < p.s);
    }`;

function qTiles(shared: boolean, bq: number, d: number, dv: number): string {
  return shared ? `
var<workgroup> qs: array<f32, ${bq * d}>;
var<workgroup> gs: array<f32, ${bq * dv}>;
var<workgroup> ls: array<f32, ${bq}>;
var<workgroup> ds_: array<f32, ${bq}>;
fn qt(b: u32, i0: i32, ii: u32, c: u32) -> f32 { return qs[ii * D + c]; }
fn gt(b: u32, i0: i32, ii: u32, c: u32) -> f32 { return gs[ii * DV + c]; }
fn lt(b: u32, i0: i32, ii: u32) -> f32 { return ls[ii]; }
fn dt(b: u32, i0: i32, ii: u32) -> f32 { return ds_[ii]; }` : `
fn qt(b: u32, i0: i32, ii: u32, c: u32) -> f32 { return q[(b * p.n + u32(i0) + ii) * D + c]; }
fn gt(b: u32, i0: i32, ii: u32, c: u32) -> f32 { return dOut[(b * p.n + u32(i0) + ii) * DV + c]; }
fn lt(b: u32, i0: i32, ii: u32) -> f32 { let i = u32(i0) + ii; if (i >= p.n) { return neg_inf(); } return ld[b * p.n + i]; }
fn dt(b: u32, i0: i32, ii: u32) -> f32 { return ld[p.rows + b * p.n + u32(i0) + ii]; }`;
}
const LOAD_Q = `
    for (var e = t; e < BR * D; e += ${BQ}u) {
      let i = u32(i0) + e / D;
      qs[e] = select(0.0, q[(b * p.n + i) * D + e % D], i < p.n);
    }
    for (var e = t; e < BR * DV; e += ${BQ}u) {
      let i = u32(i0) + e / DV;
      gs[e] = select(0.0, dOut[(b * p.n + i) * DV + e % DV], i < p.n);
    }
    for (var e = t; e < BR; e += ${BQ}u) {
      let i = u32(i0) + e;
      ls[e] = select(neg_inf(), ld[b * p.n + i], i < p.n);
      ds_[e] = select(0.0, ld[p.rows + b * p.n + i], i < p.n);
    }`;

function forward(d: number, dv: number, shared: boolean): ShaderSpec {
  const bc = tileRows(d + dv);
  return {
    key: `FlashAttention:${d}:${dv}:${shared}`,
    fields: FIELDS,
    buffers: [['q', 'f32', false], ['k', 'f32', false], ['v', 'f32', false], ['pad', 'i32', false], ['out', 'f32', true], ['lse', 'f32', true]],
    code: `${INDEX}${SEES}${KEY_RANGE}
const D = ${d}u;
const DV = ${dv}u;
const BC = ${bc}u;
${kvTiles(shared, bc, d, dv)}
@compute @workgroup_size(${BQ}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = p.bh0 + wid.y;
  let i0 = wid.x * ${BQ}u;
  let i1 = min(i0 + ${BQ}u, p.n);
  let i = i0 + t;
  let live = i < p.n;
  let pos = i32(i) + i32(p.s) - i32(p.n);
  var qi: array<f32, ${d}>;
  if (live) { for (var c = 0u; c < D; c++) { qi[c] = q[(b * p.n + i) * D + c]; } }
  var acc: array<f32, ${dv}>;
  var m = 0.0;
  var l = 0.0;
  var seen = false;
  let jlo = key_lo(i0);
  let jhi = key_hi(i1);
  for (var j0 = (jlo / i32(BC)) * i32(BC); j0 < jhi; j0 += i32(BC)) {
${shared ? `${LOAD_KV}
    workgroupBarrier();` : ''}
    if (live) {
      var sc: array<f32, ${bc}>;
      var vis: array<bool, ${bc}>;
      var tmax = 0.0;
      var found = false;
      for (var jj = 0u; jj < BC; jj++) {
        vis[jj] = sees(b, pos, j0 + i32(jj));
        if (vis[jj]) {
          var dot = 0.0;
          for (var c = 0u; c < D; c++) { dot += qi[c] * kt(b, j0, jj, c); }
          sc[jj] = p.scale * dot;
          if (!found || sc[jj] > tmax) { tmax = sc[jj]; }
          found = true;
        }
      }
      if (found) {
        let mNew = select(tmax, max(m, tmax), seen);
        let rescale = select(0.0, exp(m - mNew), seen);
        for (var c = 0u; c < DV; c++) { acc[c] *= rescale; }
        var sum = 0.0;
        for (var jj = 0u; jj < BC; jj++) {
          if (!vis[jj]) { continue; }
          let pe = exp(sc[jj] - mNew);
          sum += pe;
          let pz = pe * zf(b, i, u32(j0) + jj);
          for (var c = 0u; c < DV; c++) { acc[c] += pz * vt(b, j0, jj, c); }
        }
        l = l * rescale + sum;
        m = mNew;
        seen = true;
      }
    }
    ${shared ? 'workgroupBarrier();' : ''}
  }
  if (!live) { return; }
  let o = (b * p.n + i) * DV;
  if (!seen) {
    for (var c = 0u; c < DV; c++) { out[o + c] = 0.0; }
    lse[b * p.n + i] = neg_inf();
  } else {
    let inv = 1.0 / l;
    for (var c = 0u; c < DV; c++) { out[o + c] = acc[c] * inv; }
    lse[b * p.n + i] = m + log(l);
  }
}`,
  };
}

// D_i = dOut_i·out_i into ld[rows + r] (ld[r] holds lse, copied in before)
function rowDot(dv: number): ShaderSpec {
  return {
    key: `FlashAttentionGrad:D:${dv}`,
    fields: [['rows', 'u32'], ['first', 'u32'], ['last', 'u32']],
    buffers: [['dOut', 'f32', false], ['out', 'f32', false], ['ld', 'f32', true]],
    code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = p.first + gidx(gid, nwg);
  if (r >= p.last) { return; }
  var x = 0.0;
  for (var c = 0u; c < ${dv}u; c++) { x += dOut[r * ${dv}u + c] * out[r * ${dv}u + c]; }
  ld[p.rows + r] = x;
}`,
  };
}

// dk_j, dv_j: one thread per key, query tiles streamed
function gradKV(d: number, dv: number, shared: boolean): ShaderSpec {
  const bq = tileRows(d + dv + 2);
  return {
    key: `FlashAttentionGrad:kv:${d}:${dv}:${shared}`,
    fields: FIELDS,
    buffers: [['q', 'f32', false], ['k', 'f32', false], ['v', 'f32', false], ['pad', 'i32', false], ['ld', 'f32', false],
      ['dOut', 'f32', false], ['dk', 'f32', true], ['dv', 'f32', true]],
    code: `${INDEX}${SEES}
const D = ${d}u;
const DV = ${dv}u;
const BR = ${bq}u;
${qTiles(shared, bq, d, dv)}
@compute @workgroup_size(${BQ}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = p.bh0 + wid.y;
  let j0 = wid.x * ${BQ}u;
  let j1 = min(j0 + ${BQ}u, p.s);
  let j = j0 + t;
  let live = j < p.s;
  let shift = i32(p.s) - i32(p.n);
  var kj: array<f32, ${d}>;
  var vj: array<f32, ${dv}>;
  var dkj: array<f32, ${d}>;
  var dvj: array<f32, ${dv}>;
  if (live) {
    for (var c = 0u; c < D; c++) { kj[c] = k[(b * p.s + j) * D + c]; }
    for (var c = 0u; c < DV; c++) { vj[c] = v[(b * p.s + j) * DV + c]; }
  }
  // the queries that may see a key in [j0, j1)
  var ilo = 0;
  var ihi = i32(p.n);
  if (p.causal != 0u) { ilo = max(ilo, i32(j0) - shift); }
  if (p.window >= 0) { ilo = max(ilo, i32(j0) - p.window - shift); ihi = min(ihi, i32(j1) - 1 + p.window - shift + 1); }
  ilo = min(ilo, i32(p.n));
  for (var i0 = (ilo / i32(BR)) * i32(BR); i0 < ihi; i0 += i32(BR)) {
${shared ? `${LOAD_Q}
    workgroupBarrier();` : ''}
    if (live) {
      for (var ii = 0u; ii < BR; ii++) {
        let li = lt(b, i0, ii);
        if (is_neg_inf(li) || !sees(b, i0 + i32(ii) + shift, i32(j))) { continue; }
        var dot = 0.0;
        for (var c = 0u; c < D; c++) { dot += qt(b, i0, ii, c) * kj[c]; }
        let pr = exp(p.scale * dot - li);
        let z = zf(b, u32(i0) + ii, j);
        var dp = 0.0;
        for (var c = 0u; c < DV; c++) { dvj[c] += pr * z * gt(b, i0, ii, c); dp += gt(b, i0, ii, c) * vj[c]; }
        let dsv = pr * (z * dp - dt(b, i0, ii));
        for (var c = 0u; c < D; c++) { dkj[c] += dsv * qt(b, i0, ii, c); }
      }
    }
    ${shared ? 'workgroupBarrier();' : ''}
  }
  if (!live) { return; }
  for (var c = 0u; c < D; c++) { dk[(b * p.s + j) * D + c] = p.scale * dkj[c]; }
  for (var c = 0u; c < DV; c++) { dv[(b * p.s + j) * DV + c] = dvj[c]; }
}`,
  };
}

// dq_i: one thread per query, key tiles streamed
function gradQ(d: number, dv: number, shared: boolean): ShaderSpec {
  const bc = tileRows(d + dv);
  return {
    key: `FlashAttentionGrad:q:${d}:${dv}:${shared}`,
    fields: FIELDS,
    buffers: [['q', 'f32', false], ['k', 'f32', false], ['v', 'f32', false], ['pad', 'i32', false], ['ld', 'f32', false],
      ['dOut', 'f32', false], ['dq', 'f32', true]],
    code: `${INDEX}${SEES}${KEY_RANGE}
const D = ${d}u;
const DV = ${dv}u;
const BC = ${bc}u;
${kvTiles(shared, bc, d, dv)}
@compute @workgroup_size(${BQ}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = p.bh0 + wid.y;
  let i0 = wid.x * ${BQ}u;
  let i1 = min(i0 + ${BQ}u, p.n);
  let i = i0 + t;
  let live = i < p.n;
  let pos = i32(i) + i32(p.s) - i32(p.n);
  var qi: array<f32, ${d}>;
  var gi: array<f32, ${dv}>;
  var dqi: array<f32, ${d}>;
  var li = neg_inf();
  var Di = 0.0;
  if (live) {
    for (var c = 0u; c < D; c++) { qi[c] = q[(b * p.n + i) * D + c]; }
    for (var c = 0u; c < DV; c++) { gi[c] = dOut[(b * p.n + i) * DV + c]; }
    li = ld[b * p.n + i];
    Di = ld[p.rows + b * p.n + i];
  }
  let jlo = key_lo(i0);
  let jhi = key_hi(i1);
  for (var j0 = (jlo / i32(BC)) * i32(BC); j0 < jhi; j0 += i32(BC)) {
${shared ? `${LOAD_KV}
    workgroupBarrier();` : ''}
    if (live && !is_neg_inf(li)) {
      for (var jj = 0u; jj < BC; jj++) {
        if (!sees(b, pos, j0 + i32(jj))) { continue; }
        var dot = 0.0;
        for (var c = 0u; c < D; c++) { dot += qi[c] * kt(b, j0, jj, c); }
        let pr = exp(p.scale * dot - li);
        var dp = 0.0;
        for (var c = 0u; c < DV; c++) { dp += gi[c] * vt(b, j0, jj, c); }
        let dsv = pr * (zf(b, i, u32(j0) + jj) * dp - Di);
        for (var c = 0u; c < D; c++) { dqi[c] += dsv * kt(b, j0, jj, c); }
      }
    }
    ${shared ? 'workgroupBarrier();' : ''}
  }
  if (!live) { return; }
  for (var c = 0u; c < D; c++) { dq[(b * p.n + i) * D + c] = p.scale * dqi[c]; }
}`,
  };
}

function check(name: string, a: FlashAttentionArgs): void {
  if (!(a.bh0 >= 0 && a.bh0 <= a.bh1 && a.bh1 <= a.bh)) throw new RangeError(`${name}: slice range [${a.bh0}, ${a.bh1}) is not inside [0, ${a.bh})`);
  if (a.d > MAX_D || a.dv > MAX_D) throw new QkvError(`webgpu: ${name} supports head widths up to ${MAX_D}, got d=${a.d} dv=${a.dv}; use --backend native`);
}

const uniforms = (a: FlashAttentionArgs, pad: boolean) => ({
  n: a.n, s: a.s, heads: a.heads, scale: a.scale, causal: a.causal ? 1 : 0, window: a.window, hasPad: pad ? 1 : 0, bh0: a.bh0, rows: a.bh * a.n,
  drop: a.dropout ? 1 : 0, dropKey0: a.dropout?.key0 ?? 0, dropKey1: a.dropout?.key1 ?? 0, dropThreshold: a.dropout?.threshold ?? 0,
  dropScale: a.dropout?.scale ?? 1,
});

export function attentionKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    FlashAttention: (q, k, v, keyPadding, a, out, lse) => {
      check('FlashAttention', a);
      if (a.bh1 === a.bh0 || a.n === 0) return;
      dev.dispatch(forward(a.d, a.dv, dev.shared), uniforms(a, keyPadding !== null),
        [{ b: buf(q) }, { b: buf(k) }, { b: buf(v) }, { b: keyPadding ? buf(keyPadding) : null }, { b: buf(out), write: true }, { b: buf(lse), write: true }],
        [Math.ceil(a.n / BQ), a.bh1 - a.bh0]);
    },
    FlashAttentionGrad: (q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv) => {
      check('FlashAttentionGrad', a);
      if (a.bh1 === a.bh0) return;
      const rows = a.bh * a.n;
      const ld = dev.temp('float32', 2 * rows); // [lse | D]
      dev.copy(buf(lse), 0, ld, 0, rows);
      const first = a.bh0 * a.n;
      dev.dispatch(rowDot(a.dv), { rows, first, last: a.bh1 * a.n }, [{ b: buf(dOut) }, { b: buf(out) }, { b: ld, write: true }], grid(a.bh1 * a.n - first));
      const u = uniforms(a, keyPadding !== null);
      const pad = { b: keyPadding ? buf(keyPadding) : null };
      if (a.s > 0) {
        dev.dispatch(gradKV(a.d, a.dv, dev.shared), u, [{ b: buf(q) }, { b: buf(k) }, { b: buf(v) }, pad, { b: ld }, { b: buf(dOut) },
          { b: buf(dk), write: true }, { b: buf(dv), write: true }], [Math.ceil(a.s / BQ), a.bh1 - a.bh0]);
      }
      if (a.n > 0) {
        dev.dispatch(gradQ(a.d, a.dv, dev.shared), u, [{ b: buf(q) }, { b: buf(k) }, { b: buf(v) }, pad, { b: ld }, { b: buf(dOut) },
          { b: buf(dq), write: true }], [Math.ceil(a.n / BQ), a.bh1 - a.bh0]);
      }
    },
  };
}
