// Row kernels on WebGPU: softmax and log-softmax with their gradients, LayerNorm and its
// gradient, cross-entropy (ignore index, label smoothing) and its gradient. One workgroup per
// row; sums and maxima by a tree in workgroup memory (no atomics, so results are deterministic).
// dgamma/dbeta are column sums over rows: one thread per column, rows in order.
import type { KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, rowGrid, WG } from './util.js';

/**
 * Two shapes of every row kernel: a workgroup of RW threads per row reducing in workgroup
 * memory (GPUs), or one thread per row, serially (CPU-emulated adapters such as SwiftShader,
 * where a workgroup barrier costs more than the loop it saves). The bodies are written once:
 * they stride by RW from thread t, and wg_sum/wg_max combine the threads' parts.
 */
interface Mode { rw: number; reduce: string; main: string; row: string }

const RW_SHARED = 64;
const SHARED: Mode = {
  rw: RW_SHARED,
  reduce: /* wgsl */ `
var<workgroup> red: array<f32, ${RW_SHARED}>;
fn wg_sum(v: f32, t: u32) -> f32 {
  workgroupBarrier();
  red[t] = v;
  workgroupBarrier();
  for (var w = ${RW_SHARED / 2}u; w > 0u; w = w / 2u) {
    if (t < w) { red[t] += red[t + w]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}
fn wg_max(v: f32, t: u32) -> f32 {
  workgroupBarrier();
  red[t] = v;
  workgroupBarrier();
  for (var w = ${RW_SHARED / 2}u; w > 0u; w = w / 2u) {
    if (t < w) { red[t] = max(red[t], red[t + w]); }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}`,
  main: `@compute @workgroup_size(${RW_SHARED}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32)`,
  // rows beyond p.rows (the last rows of a 2-d grid) still join the barriers, reading row 0
  row: 'let rr = row_id(wid, nwg); let live = rr < p.rows; let r = select(0u, rr, live); let base = r * p.cols;',
};
const SERIAL: Mode = {
  rw: 1,
  reduce: /* wgsl */ `
fn wg_sum(v: f32, t: u32) -> f32 { return v; }
fn wg_max(v: f32, t: u32) -> f32 { return v; }`,
  main: `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`,
  row: 'let t = 0u; let r = gidx(gid, nwg); let live = true; if (r >= p.rows) { return; } let base = r * p.cols;',
};

type RowSpec = (m: Mode) => ShaderSpec;

function rowSpec(key: string, buffers: ShaderSpec['buffers'], body: (rw: number) => string, extra: ShaderSpec['fields'] = []): RowSpec {
  const made = new Map<Mode, ShaderSpec>();
  return (m) => {
    let spec = made.get(m);
    if (!spec) {
      spec = { key: `${key}:${m.rw}`, fields: [['rows', 'u32'], ['cols', 'u32'], ...extra], buffers,
        code: `${INDEX}${m.reduce}\n${m.main} {\n${m.row}\n${body(m.rw)}\n}` };
      made.set(m, spec);
    }
    return spec;
  };
}

const MAXROW = (RW: number) => `var m = neg_inf();
  for (var c = t; c < p.cols; c += ${RW}u) { m = max(m, x[base + c]); }
  m = wg_max(m, t);`;
const SUMEXP = (RW: number) => `var s = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { s += exp(x[base + c] - m); }
  s = wg_sum(s, t);`;

const SOFTMAX = rowSpec('Softmax', [['x', 'f32', false], ['y', 'f32', true]], (RW) => `
  ${MAXROW(RW)}
  if (bitcast<u32>(m) == 0xff800000u) { // all -Infinity (bits: a uniform test)
    if (live) { for (var c = t; c < p.cols; c += ${RW}u) { y[base + c] = 0.0; } }
    return;
  }
  ${SUMEXP(RW)}
  if (live) { for (var c = t; c < p.cols; c += ${RW}u) { y[base + c] = exp(x[base + c] - m) / s; } }`);

const LOGSOFTMAX = rowSpec('LogSoftmax', [['x', 'f32', false], ['y', 'f32', true]], (RW) => `
  ${MAXROW(RW)}
  ${SUMEXP(RW)}
  let lse = m + log(s);
  if (live) { for (var c = t; c < p.cols; c += ${RW}u) { y[base + c] = x[base + c] - lse; } }`);

const SOFTMAX_GRAD = rowSpec('SoftmaxGrad', [['y', 'f32', false], ['dy', 'f32', false], ['dx', 'f32', true]], (RW) => `
  var d = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { d += dy[base + c] * y[base + c]; }
  d = wg_sum(d, t);
  if (live) { for (var c = t; c < p.cols; c += ${RW}u) { dx[base + c] = y[base + c] * (dy[base + c] - d); } }`);

const LOGSOFTMAX_GRAD = rowSpec('LogSoftmaxGrad', [['y', 'f32', false], ['dy', 'f32', false], ['dx', 'f32', true]], (RW) => `
  var s = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { s += dy[base + c]; }
  s = wg_sum(s, t);
  if (live) { for (var c = t; c < p.cols; c += ${RW}u) { dx[base + c] = dy[base + c] - exp(y[base + c]) * s; } }`);

const LAYERNORM = rowSpec('LayerNorm', [['x', 'f32', false], ['gamma', 'f32', false], ['beta', 'f32', false], ['y', 'f32', true],
  ['mean', 'f32', true], ['rstd', 'f32', true]], (RW) => `
  var s = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { s += x[base + c]; }
  let mu = wg_sum(s, t) / f32(p.cols);
  var v = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { let d = x[base + c] - mu; v += d * d; }
  let rs = 1.0 / sqrt(wg_sum(v, t) / f32(p.cols) + p.eps);
  if (!live) { return; }
  if (t == 0u) { mean[r] = mu; rstd[r] = rs; }
  for (var c = t; c < p.cols; c += ${RW}u) {
    let g = select(1.0, gamma[c], p.hasGamma != 0u);
    let b = select(0.0, beta[c], p.hasBeta != 0u);
    y[base + c] = (x[base + c] - mu) * rs * g + b;
  }`, [['eps', 'f32'], ['hasGamma', 'u32'], ['hasBeta', 'u32']]);

const LAYERNORM_GRAD_X = rowSpec('LayerNormGradX', [['x', 'f32', false], ['gamma', 'f32', false], ['mean', 'f32', false],
  ['rstd', 'f32', false], ['dy', 'f32', false], ['dx', 'f32', true]], (RW) => `
  let mu = mean[r];
  let rs = rstd[r];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) {
    let xhat = (x[base + c] - mu) * rs;
    let g = dy[base + c] * select(1.0, gamma[c], p.hasGamma != 0u);
    sg += g;
    sgx += g * xhat;
  }
  sg = wg_sum(sg, t) / f32(p.cols);
  sgx = wg_sum(sgx, t) / f32(p.cols);
  if (!live) { return; }
  for (var c = t; c < p.cols; c += ${RW}u) {
    let xhat = (x[base + c] - mu) * rs;
    let g = dy[base + c] * select(1.0, gamma[c], p.hasGamma != 0u);
    dx[base + c] = rs * (g - sg - xhat * sgx);
  }`, [['hasGamma', 'u32']]);

// dgamma[c] += Σ_r dy·xhat, dbeta[c] += Σ_r dy: a thread per column, rows in order
const LAYERNORM_GRAD_W: ShaderSpec = {
  key: 'LayerNormGradW',
  fields: [['rows', 'u32'], ['cols', 'u32'], ['hasGamma', 'u32'], ['hasBeta', 'u32']],
  buffers: [['x', 'f32', false], ['mean', 'f32', false], ['rstd', 'f32', false], ['dy', 'f32', false], ['dgamma', 'f32', true], ['dbeta', 'f32', true]],
  code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = gidx(gid, nwg);
  if (c >= p.cols) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let g = dy[r * p.cols + c];
    sg += g * (x[r * p.cols + c] - mean[r]) * rstd[r];
    sb += g;
  }
  if (p.hasGamma != 0u) { dgamma[c] += sg; }
  if (p.hasBeta != 0u) { dbeta[c] += sb; }
}`,
};

const CROSS_ENTROPY = rowSpec('CrossEntropy', [['x', 'f32', false], ['targets', 'i32', false], ['loss', 'f32', true], ['lse', 'f32', true]], (RW) => `
  ${MAXROW(RW)}
  var s = 0.0;
  var sl = 0.0;
  for (var c = t; c < p.cols; c += ${RW}u) { s += exp(x[base + c] - m); sl += x[base + c]; }
  s = wg_sum(s, t);
  sl = wg_sum(sl, t);
  if (!live || t != 0u) { return; }
  let l = m + log(s);
  lse[r] = l;
  let tg = targets[r];
  if (tg == p.ignoreIndex) { loss[r] = 0.0; return; }
  let nll = l - x[base + u32(tg)];
  let smoothed = l - sl / f32(p.cols);
  loss[r] = (1.0 - p.smoothing) * nll + p.smoothing * smoothed;`, [['ignoreIndex', 'i32'], ['smoothing', 'f32']]);

const CROSS_ENTROPY_GRAD: ShaderSpec = {
  key: 'CrossEntropyGrad',
  fields: [['rows', 'u32'], ['cols', 'u32'], ['ignoreIndex', 'i32'], ['smoothing', 'f32']],
  buffers: [['x', 'f32', false], ['targets', 'i32', false], ['lse', 'f32', false], ['dloss', 'f32', false], ['dx', 'f32', true]],
  code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.rows * p.cols) { return; }
  let r = i / p.cols;
  let c = i % p.cols;
  let tg = targets[r];
  if (tg == p.ignoreIndex) { dx[i] = 0.0; return; }
  let q = select(0.0, 1.0 - p.smoothing, i32(c) == tg) + p.smoothing / f32(p.cols);
  dx[i] = dloss[r] * (exp(x[i] - lse[r]) - q);
}`,
};

export function rowKernels(dev: GpuDevice): Partial<KernelSignatures> {
  const mode = (): Mode => (dev.shared ? SHARED : SERIAL);
  const launch = (rows: number) => (dev.shared ? rowGrid(rows) : grid(rows));
  const two = (spec: RowSpec) => (a: Float32Array, b: Float32Array, rows: number, cols: number, out: Float32Array) =>
    dev.dispatch(spec(mode()), { rows, cols }, [{ b: buf(a) }, { b: buf(b) }, { b: buf(out), write: true }], launch(rows));
  const one = (spec: RowSpec) => (x: Float32Array, rows: number, cols: number, out: Float32Array) =>
    dev.dispatch(spec(mode()), { rows, cols }, [{ b: buf(x) }, { b: buf(out), write: true }], launch(rows));
  return {
    Softmax: one(SOFTMAX),
    LogSoftmax: one(LOGSOFTMAX),
    SoftmaxGrad: two(SOFTMAX_GRAD),
    LogSoftmaxGrad: two(LOGSOFTMAX_GRAD),
    LayerNorm: (x, gamma, beta, rows, cols, eps, y, mean, rstd) => dev.dispatch(LAYERNORM(mode()),
      { rows, cols, eps, hasGamma: gamma ? 1 : 0, hasBeta: beta ? 1 : 0 },
      [{ b: buf(x) }, { b: gamma ? buf(gamma) : null }, { b: beta ? buf(beta) : null }, { b: buf(y), write: true },
        { b: buf(mean), write: true }, { b: buf(rstd), write: true }], launch(rows)),
    LayerNormGrad: (x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) => {
      // the weight sums first: dx may share memory with nothing here, but x/dy must be read before any overwrite
      if (dgamma || dbeta) {
        dev.dispatch(LAYERNORM_GRAD_W, { rows, cols, hasGamma: dgamma ? 1 : 0, hasBeta: dbeta ? 1 : 0 },
          [{ b: buf(x) }, { b: buf(mean) }, { b: buf(rstd) }, { b: buf(dy) }, { b: dgamma ? buf(dgamma) : null, write: true },
            { b: dbeta ? buf(dbeta) : dev.temp('float32', 1), write: true }], grid(cols));
      }
      dev.dispatch(LAYERNORM_GRAD_X(mode()), { rows, cols, hasGamma: gamma ? 1 : 0 },
        [{ b: buf(x) }, { b: gamma ? buf(gamma) : null }, { b: buf(mean) }, { b: buf(rstd) }, { b: buf(dy) }, { b: buf(dx), write: true }],
        launch(rows));
    },
    CrossEntropy: (logits, targets, rows, classes, ignoreIndex, smoothing, loss, lse) => dev.dispatch(CROSS_ENTROPY(mode()),
      { rows, cols: classes, ignoreIndex, smoothing },
      [{ b: buf(logits) }, { b: buf(targets) }, { b: buf(loss), write: true }, { b: buf(lse), write: true }], launch(rows)),
    CrossEntropyGrad: (logits, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dlogits) => dev.dispatch(CROSS_ENTROPY_GRAD,
      { rows, cols: classes, ignoreIndex, smoothing },
      [{ b: buf(logits) }, { b: buf(targets) }, { b: buf(lse) }, { b: buf(dloss) }, { b: buf(dlogits), write: true }], grid(rows * classes)),
  };
}
