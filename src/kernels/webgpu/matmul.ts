// Batched matrix product on WebGPU (a Linear's bias added as each output is stored): on GPUs, 64×64 output tiles per workgroup of 16×16 threads, each
// thread a 4×4 block in registers, A and B staged through workgroup memory 16 columns of k at a
// time. Transposes are flags (a different load pattern), never copies; batch strides and
// offsets as the contract gives them (a batch stride of 0 shares one matrix). On CPU-emulated
// adapters (SwiftShader) a block of outputs per thread in registers instead (matmul-blocked.ts):
// barriers cost more there than they save.
import type { KernelSignatures } from '../contract.js';
import type { FieldType, GpuDevice, ShaderSpec } from './device.js';
import { blockedMatMul } from './matmul-blocked.js';
import { buf, ty } from './util.js';

const T = 64; // output tile edge
const TK = 16; // k per stage

function spec(transA: boolean, transB: boolean, at: string, bt: string, biasT: string | null): ShaderSpec {
  // each thread loads 4 of the 64×16 elements of each tile, along the operand's contiguous axis
  const loadA = transA
    ? 'let kk = e / 64u; let i = e % 64u;' // a stored [k, m]
    : 'let i = e / 16u; let kk = e % 16u;'; // a stored [m, k]
  const aIndex = transA ? '(k0 + kk) * p.m + row0 + i' : '(row0 + i) * p.k + k0 + kk';
  const loadB = transB
    ? 'let j = e / 16u; let kk = e % 16u;' // b stored [n, k]
    : 'let kk = e / 64u; let j = e % 64u;'; // b stored [k, n]
  const bIndex = transB ? '(col0 + j) * p.k + k0 + kk' : '(k0 + kk) * p.n + col0 + j';
  return {
    key: `MatMul:${transA}:${transB}:${at}:${bt}:${biasT}`,
    fields: [['m', 'u32'], ['n', 'u32'], ['k', 'u32'], ['aOff', 'u32'], ['aBS', 'u32'], ['bOff', 'u32'], ['bBS', 'u32'], ...(biasT ? [['biasOff', 'u32'] as [string, FieldType]] : [])],
    buffers: [['a', at, false], ['b', bt, false], ['out', 'f32', true], ...(biasT ? [['bias', biasT, false] as [string, string, boolean]] : [])],
    code: /* wgsl */ `
var<workgroup> As: array<f32, ${TK * T}>;
var<workgroup> Bs: array<f32, ${TK * T}>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let row0 = wid.y * ${T}u;
  let col0 = wid.x * ${T}u;
  let tid = lid.y * 16u + lid.x;
  let aBase = p.aOff + batch * p.aBS;
  let bBase = p.bOff + batch * p.bBS;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.k; k0 += ${TK}u) {
    for (var l = 0u; l < 4u; l++) {
      let e = tid + l * 256u;
      {
        ${loadA}
        var v = 0.0;
        if (row0 + i < p.m && k0 + kk < p.k) { v = f32(a[aBase + ${aIndex}]); }
        As[kk * ${T}u + i] = v;
      }
      {
        ${loadB}
        var v = 0.0;
        if (col0 + j < p.n && k0 + kk < p.k) { v = f32(b[bBase + ${bIndex}]); }
        Bs[kk * ${T}u + j] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { av[r] = As[kk * ${T}u + lid.y * 4u + r]; }
      for (var c = 0u; c < 4u; c++) { bv[c] = Bs[kk * ${T}u + lid.x * 4u + c]; }
      for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] = fma(av[r], bv[c], acc[r * 4u + c]); }
      }
    }
    workgroupBarrier();
  }
  let oBase = batch * p.m * p.n;
  for (var r = 0u; r < 4u; r++) {
    let i = row0 + lid.y * 4u + r;
    if (i >= p.m) { break; }
    for (var c = 0u; c < 4u; c++) {
      let j = col0 + lid.x * 4u + c;
      if (j < p.n) { out[oBase + i * p.n + j] = acc[r * 4u + c]${biasT ? ` + ${biasT === 'f32' ? 'bias[p.biasOff + j]' : 'f32(bias[p.biasOff + j])'}` : ''}; }
    }
  }
}`,
  };
}

export function matmulKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    MatMul: (x) => {
      if (!dev.shared) return blockedMatMul(dev, x);
      const a = buf(x.a);
      const b = buf(x.b);
      const bias = x.bias ? buf(x.bias.data) : null;
      dev.dispatch(spec(x.transA, x.transB, ty(a.dtype), ty(b.dtype), bias ? ty(bias.dtype) : null),
        { m: x.m, n: x.n, k: x.k, aOff: x.aOffset, aBS: x.aBatchStride, bOff: x.bOffset, bBS: x.bBatchStride, ...(x.bias ? { biasOff: x.bias.offset } : {}) },
        [{ b: a }, { b }, { b: buf(x.out), write: true }, ...(bias ? [{ b: bias }] : [])],
        [Math.ceil(x.n / T), Math.ceil(x.m / T), x.batch]);
    },
  };
}
