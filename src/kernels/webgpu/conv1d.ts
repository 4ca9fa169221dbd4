// 1-d convolution on WebGPU (PyTorch layout: x [B, Cin, L], w [Cout, Cin/groups, K]) and its
// two gradients, each one thread per element it writes (no atomics): the output, the input
// gradient (gathering the outputs each input position fed) and the weight gradient (a sum over
// batch and time).
import type { Conv1dArgs, KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, WG } from './util.js';

const FIELDS: ShaderSpec['fields'] = [['batch', 'u32'], ['cin', 'u32'], ['cout', 'u32'], ['groups', 'u32'], ['length', 'u32'],
  ['kernel', 'u32'], ['outLength', 'u32'], ['stride', 'u32'], ['padLeft', 'i32'], ['dilation', 'u32']];
const MAIN = `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;
const GROUPS = 'let cinG = p.cin / p.groups; let coutG = p.cout / p.groups;';

const CONV: ShaderSpec = {
  key: 'Conv1d', fields: FIELDS,
  buffers: [['x', 'f32', false], ['w', 'f32', false], ['y', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.batch * p.cout * p.outLength) { return; }
  ${GROUPS}
  let t = e % p.outLength;
  let co = (e / p.outLength) % p.cout;
  let b = e / (p.outLength * p.cout);
  let g = co / coutG;
  var acc = 0.0;
  for (var cg = 0u; cg < cinG; cg++) {
    let xBase = (b * p.cin + g * cinG + cg) * p.length;
    for (var k = 0u; k < p.kernel; k++) {
      let pos = i32(t * p.stride + k * p.dilation) - p.padLeft;
      if (pos >= 0 && pos < i32(p.length)) { acc += w[(co * cinG + cg) * p.kernel + k] * x[xBase + u32(pos)]; }
    }
  }
  y[e] = acc;
}`,
};

const GRAD_INPUT: ShaderSpec = {
  key: 'Conv1dGradInput', fields: FIELDS,
  buffers: [['dy', 'f32', false], ['w', 'f32', false], ['dx', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.batch * p.cin * p.length) { return; }
  ${GROUPS}
  let pos = i32(e % p.length);
  let ci = (e / p.length) % p.cin;
  let b = e / (p.length * p.cin);
  let g = ci / cinG;
  let cg = ci % cinG;
  var acc = 0.0;
  for (var cj = 0u; cj < coutG; cj++) {
    let co = g * coutG + cj;
    let yBase = (b * p.cout + co) * p.outLength;
    for (var k = 0u; k < p.kernel; k++) {
      // pos = t*stride + k*dilation - padLeft
      let num = pos + p.padLeft - i32(k * p.dilation);
      if (num < 0 || num % i32(p.stride) != 0) { continue; }
      let t = u32(num) / p.stride;
      if (t < p.outLength) { acc += w[(co * cinG + cg) * p.kernel + k] * dy[yBase + t]; }
    }
  }
  dx[e] = acc;
}`,
};

const GRAD_WEIGHT: ShaderSpec = {
  key: 'Conv1dGradWeight', fields: FIELDS,
  buffers: [['dy', 'f32', false], ['x', 'f32', false], ['dw', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  ${GROUPS}
  if (e >= p.cout * cinG * p.kernel) { return; }
  let k = e % p.kernel;
  let cg = (e / p.kernel) % cinG;
  let co = e / (p.kernel * cinG);
  let g = co / coutG;
  var acc = 0.0;
  for (var b = 0u; b < p.batch; b++) {
    let xBase = (b * p.cin + g * cinG + cg) * p.length;
    let yBase = (b * p.cout + co) * p.outLength;
    for (var t = 0u; t < p.outLength; t++) {
      let pos = i32(t * p.stride + k * p.dilation) - p.padLeft;
      if (pos >= 0 && pos < i32(p.length)) { acc += x[xBase + u32(pos)] * dy[yBase + t]; }
    }
  }
  dw[e] = acc;
}`,
};

const values = (a: Conv1dArgs) => ({ ...a });

export function conv1dKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    Conv1d: (x, w, a, out) => dev.dispatch(CONV, values(a), [{ b: buf(x) }, { b: buf(w) }, { b: buf(out), write: true }],
      grid(a.batch * a.cout * a.outLength)),
    Conv1dGradInput: (dy, w, a, dx) => dev.dispatch(GRAD_INPUT, values(a), [{ b: buf(dy) }, { b: buf(w) }, { b: buf(dx), write: true }],
      grid(a.batch * a.cin * a.length)),
    Conv1dGradWeight: (dy, x, a, dw) => dev.dispatch(GRAD_WEIGHT, values(a), [{ b: buf(dy) }, { b: buf(x) }, { b: buf(dw), write: true }],
      grid(a.cout * (a.cin / a.groups) * a.kernel)),
  };
}
