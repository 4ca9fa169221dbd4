// Dropout with its counter-based mask on WebGPU, made where it is used (kernels/ref/dropout.ts is the
// definition; u32 arithmetic wraps in WGSL as Math.imul does, so the bits match every backend).
import type { KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, WG } from './util.js';

const DROPOUT: ShaderSpec = {
  key: 'Dropout',
  fields: [['n', 'u32'], ['key0', 'u32'], ['key1', 'u32'], ['threshold', 'u32'], ['scale', 'f32']],
  buffers: [['x', 'f32', false], ['out', 'f32', true]],
  code: `${INDEX}
fn lowbias32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let h = lowbias32(lowbias32(i ^ p.key0) ^ p.key1);
  out[i] = x[i] * select(0.0, p.scale, (h >> 8u) >= p.threshold);
}`,
};

export function dropoutKernels(dev: GpuDevice): Pick<KernelSignatures, 'Dropout'> {
  return {
    Dropout: (x, out, a) => {
      const n = buf(out).length;
      dev.dispatch(DROPOUT, { n, key0: a.key0, key1: a.key1, threshold: a.threshold, scale: a.scale }, [{ b: buf(x) }, { b: buf(out), write: true }], grid(n));
    },
  };
}
