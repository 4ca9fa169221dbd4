// Optimizer updates on WebGPU, in place over a parameter's buffer: one thread per element.
import type { KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, WG } from './util.js';

const MAIN = `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

const ADAMW: ShaderSpec = {
  key: 'AdamW',
  fields: [['n', 'u32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['decay', 'f32'], ['stepSize', 'f32'], ['sqrtC2', 'f32']],
  buffers: [['param', 'f32', true], ['g', 'f32', false], ['m', 'f32', true], ['v', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let gi = g[i];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] * p.decay - (p.stepSize * mi) / (sqrt(vi) / p.sqrtC2 + p.eps);
}`,
};

const SGD: ShaderSpec = {
  key: 'Sgd',
  fields: [['n', 'u32'], ['lr', 'f32'], ['momentum', 'f32'], ['dampening', 'f32'], ['weightDecay', 'f32'], ['nesterov', 'u32'],
    ['first', 'u32'], ['hasBuf', 'u32']],
  buffers: [['param', 'f32', true], ['g', 'f32', false], ['mbuf', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  var d = g[i] + p.weightDecay * param[i];
  if (p.hasBuf != 0u) {
    let b = select(p.momentum * mbuf[i] + (1.0 - p.dampening) * d, d, p.first != 0u);
    mbuf[i] = b;
    d = select(b, d + p.momentum * b, p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * d;
}`,
};

export function optimKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    AdamW: (param, g, m, v, a) => {
      const n = buf(param).length;
      const c1 = 1 - a.beta1 ** a.step;
      const c2 = 1 - a.beta2 ** a.step;
      dev.dispatch(ADAMW, { n, beta1: a.beta1, beta2: a.beta2, eps: a.eps, decay: 1 - a.lr * a.weightDecay, stepSize: a.lr / c1, sqrtC2: Math.sqrt(c2) },
        [{ b: buf(param), write: true }, { b: buf(g) }, { b: buf(m), write: true }, { b: buf(v), write: true }], grid(n));
    },
    Sgd: (param, g, mbuf, a) => {
      const n = buf(param).length;
      dev.dispatch(SGD, { n, lr: a.lr, momentum: a.momentum, dampening: a.dampening, weightDecay: a.weightDecay,
        nesterov: a.nesterov ? 1 : 0, first: a.first ? 1 : 0, hasBuf: mbuf ? 1 : 0 },
      [{ b: buf(param), write: true }, { b: buf(g) }, { b: mbuf ? buf(mbuf) : null, write: true }], grid(n));
    },
  };
}
