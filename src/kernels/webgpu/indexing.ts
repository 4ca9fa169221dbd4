// Gather and scatter-add on WebGPU. WGSL has no float atomics, so scatter-add is made
// deterministic instead: a first pass links each row i to the next row with the same id (and
// marks the first of each id), then one thread per (first row, column) walks its chain in
// order, adding in the reference's order (so results are bit-equal to it).
import type { KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, ty, WG } from './util.js';

const MAIN = `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

const gather = (t: string): ShaderSpec => ({
  key: `Gather:${t}`,
  fields: [['n', 'u32'], ['cols', 'u32']],
  buffers: [['table', t, false], ['ids', 'i32', false], ['out', t, true]],
  code: `${INDEX}
${MAIN} {
  let i = gidx(gid, nwg);
  if (i >= p.n * p.cols) { return; }
  let r = i / p.cols;
  out[i] = table[u32(ids[r]) * p.cols + i % p.cols];
}`,
});

// next[i]: the next row with ids[i]'s id (-1: none); first[i] = 1 when no earlier row has it
const LINK: ShaderSpec = {
  key: 'ScatterAdd:link',
  fields: [['n', 'u32']],
  buffers: [['ids', 'i32', false], ['link', 'i32', true]],
  code: `${INDEX}
${MAIN} {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let id = ids[i];
  var first = 1;
  for (var j = 0u; j < i; j++) { if (ids[j] == id) { first = 0; break; } }
  var next = -1;
  for (var j = i + 1u; j < p.n; j++) { if (ids[j] == id) { next = i32(j); break; } }
  link[i] = next;
  link[p.n + i] = first;
}`,
};

const SCATTER: ShaderSpec = {
  key: 'ScatterAdd:add',
  fields: [['n', 'u32'], ['cols', 'u32']],
  buffers: [['src', 'f32', false], ['ids', 'i32', false], ['link', 'i32', false], ['out', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.n * p.cols) { return; }
  let i = e / p.cols;
  let c = e % p.cols;
  if (link[p.n + i] == 0) { return; }
  let o = u32(ids[i]) * p.cols + c;
  var acc = out[o];
  var j = i32(i);
  loop {
    acc += src[u32(j) * p.cols + c];
    j = link[u32(j)];
    if (j < 0) { break; }
  }
  out[o] = acc;
}`,
};

export function indexingKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    Gather: (table, cols, ids, out) => {
      const t = buf(table);
      const n = buf(ids).length;
      dev.dispatch(gather(ty(t.dtype)), { n, cols }, [{ b: t }, { b: buf(ids) }, { b: buf(out), write: true }], grid(n * cols));
    },
    ScatterAdd: (src, cols, ids, out) => {
      const n = buf(ids).length;
      if (n === 0) return;
      const link = dev.temp('int32', 2 * n);
      dev.dispatch(LINK, { n }, [{ b: buf(ids) }, { b: link, write: true }], grid(n));
      dev.dispatch(SCATTER, { n, cols }, [{ b: buf(src) }, { b: buf(ids) }, { b: link }, { b: buf(out), write: true }], grid(n * cols));
    },
  };
}
