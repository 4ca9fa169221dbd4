// Linear attention on WebGPU ("Transformers are RNNs"): the causal running sums as one thread
// per state column (forward: a column of S and all of z; gradients: a row or column of the
// reverse sums), sequential over time, parallel over batch×heads and the state's width; and the
// recurrent one-token step. Specialised on dk and dv (private arrays need constant sizes).
import { QkvError } from '../../core/errors.js';
import type { KernelSignatures } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, WG } from './util.js';

const MAX = 256;
const FIELDS: ShaderSpec['fields'] = [['bh', 'u32'], ['n', 'u32'], ['eps', 'f32']];
const MAIN = `@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

// thread (h, col): S[:, col] and z over time; den written by column 0
function forward(dk: number, dv: number): ShaderSpec {
  return {
    key: `CausalLinearAttention:${dk}:${dv}`, fields: FIELDS,
    buffers: [['q', 'f32', false], ['k', 'f32', false], ['v', 'f32', false], ['out', 'f32', true], ['den', 'f32', true]],
    code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * ${dv}u) { return; }
  let h = e / ${dv}u;
  let col = e % ${dv}u;
  var S: array<f32, ${dk}>;
  var z: array<f32, ${dk}>;
  for (var i = 0u; i < p.n; i++) {
    let r = h * p.n + i;
    let vb = v[r * ${dv}u + col];
    var d = p.eps;
    var s = 0.0;
    for (var a = 0u; a < ${dk}u; a++) {
      let ka = k[r * ${dk}u + a];
      z[a] += ka;
      S[a] += ka * vb;
      let qa = q[r * ${dk}u + a];
      d += qa * z[a];
      s += qa * S[a];
    }
    out[r * ${dv}u + col] = s / d;
    if (col == 0u) { den[r] = d; }
  }
}`,
  };
}

/** WGSL: gd_r = -(dOut_r·out_r) / den_r. */
const GD = (dv: number) => `
fn gd(r: u32) -> f32 {
  var g = 0.0;
  for (var b = 0u; b < ${dv}u; b++) { g += dOut[r * ${dv}u + b] * out[r * ${dv}u + b]; }
  return -g / den[r];
}`;

// ∇φq[r, a] = gd_r z[a] + Σ_b S[a, b] dOut[r, b] / den_r: thread (h, a) holds row a of S
function gradQ(dk: number, dv: number): ShaderSpec {
  return {
    key: `CausalLinearAttentionGrad:q:${dk}:${dv}`, fields: FIELDS,
    buffers: [['k', 'f32', false], ['v', 'f32', false], ['out', 'f32', false], ['den', 'f32', false], ['dOut', 'f32', false], ['dq', 'f32', true]],
    code: `${INDEX}${GD(dv)}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * ${dk}u) { return; }
  let h = e / ${dk}u;
  let a = e % ${dk}u;
  var S: array<f32, ${dv}>;
  var z = 0.0;
  for (var i = 0u; i < p.n; i++) {
    let r = h * p.n + i;
    let ka = k[r * ${dk}u + a];
    z += ka;
    let d = den[r];
    var s = gd(r) * z;
    for (var b = 0u; b < ${dv}u; b++) {
      S[b] += ka * v[r * ${dv}u + b];
      s += S[b] * (dOut[r * ${dv}u + b] / d);
    }
    dq[r * ${dk}u + a] = s;
  }
}`,
  };
}

// reverse sums R = Σ_{i≥j} φq_i gn_iᵀ, r = Σ_{i≥j} gd_i φq_i; ∇φk[j, a] = r[a] + Σ_b R[a, b] v[j, b]: thread (h, a)
function gradK(dk: number, dv: number): ShaderSpec {
  return {
    key: `CausalLinearAttentionGrad:k:${dk}:${dv}`, fields: FIELDS,
    buffers: [['q', 'f32', false], ['v', 'f32', false], ['out', 'f32', false], ['den', 'f32', false], ['dOut', 'f32', false], ['dk', 'f32', true]],
    code: `${INDEX}${GD(dv)}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * ${dk}u) { return; }
  let h = e / ${dk}u;
  let a = e % ${dk}u;
  var R: array<f32, ${dv}>;
  var rr = 0.0;
  for (var t = 0u; t < p.n; t++) {
    let r = h * p.n + (p.n - 1u - t);
    let qa = q[r * ${dk}u + a];
    let d = den[r];
    rr += gd(r) * qa;
    var s = rr;
    for (var b = 0u; b < ${dv}u; b++) {
      R[b] += qa * (dOut[r * ${dv}u + b] / d);
      s += R[b] * v[r * ${dv}u + b];
    }
    dk[r * ${dk}u + a] = s;
  }
}`,
  };
}

// ∇v[j, b] = Σ_a R[a, b] φk[j, a]: thread (h, b) holds column b of R
function gradV(dk: number, dv: number): ShaderSpec {
  return {
    key: `CausalLinearAttentionGrad:v:${dk}:${dv}`, fields: FIELDS,
    buffers: [['q', 'f32', false], ['k', 'f32', false], ['den', 'f32', false], ['dOut', 'f32', false], ['dv', 'f32', true]],
    code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * ${dv}u) { return; }
  let h = e / ${dv}u;
  let col = e % ${dv}u;
  var R: array<f32, ${dk}>;
  for (var t = 0u; t < p.n; t++) {
    let r = h * p.n + (p.n - 1u - t);
    let gn = dOut[r * ${dv}u + col] / den[r];
    var s = 0.0;
    for (var a = 0u; a < ${dk}u; a++) {
      R[a] += q[r * ${dk}u + a] * gn;
      s += R[a] * k[r * ${dk}u + a];
    }
    dv[r * ${dv}u + col] = s;
  }
}`,
  };
}

// the recurrent step: S += φk vᵀ and z += φk (thread per (h, a, b)), then the readout (thread per (h, b))
const STEP_UPDATE: ShaderSpec = {
  key: 'LinearAttentionStep:update', fields: [['bh', 'u32'], ['dk', 'u32'], ['dv', 'u32']],
  buffers: [['k', 'f32', false], ['v', 'f32', false], ['S', 'f32', true], ['z', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * p.dk * p.dv) { return; }
  let b = e % p.dv;
  let a = (e / p.dv) % p.dk;
  let h = e / (p.dv * p.dk);
  let ka = k[h * p.dk + a];
  S[e] += ka * v[h * p.dv + b];
  if (b == 0u) { z[h * p.dk + a] += ka; }
}`,
};
const STEP_READ: ShaderSpec = {
  key: 'LinearAttentionStep:read', fields: [['bh', 'u32'], ['dk', 'u32'], ['dv', 'u32'], ['eps', 'f32']],
  buffers: [['q', 'f32', false], ['S', 'f32', false], ['z', 'f32', false], ['out', 'f32', true]],
  code: `${INDEX}
${MAIN} {
  let e = gidx(gid, nwg);
  if (e >= p.bh * p.dv) { return; }
  let b = e % p.dv;
  let h = e / p.dv;
  var d = p.eps;
  var s = 0.0;
  for (var a = 0u; a < p.dk; a++) {
    let qa = q[h * p.dk + a];
    d += qa * z[h * p.dk + a];
    s += qa * S[(h * p.dk + a) * p.dv + b];
  }
  out[e] = s / d;
}`,
};

function check(dk: number, dv: number): void {
  if (dk > MAX || dv > MAX) throw new QkvError(`webgpu: linear attention supports feature widths up to ${MAX}, got dk=${dk} dv=${dv}; use --backend native`);
}

export function linearAttentionKernels(dev: GpuDevice): Partial<KernelSignatures> {
  return {
    CausalLinearAttention: (phiQ, phiK, v, bh, n, dk, dv, eps, out, den) => {
      check(dk, dv);
      dev.dispatch(forward(dk, dv), { bh, n, eps }, [{ b: buf(phiQ) }, { b: buf(phiK) }, { b: buf(v) }, { b: buf(out), write: true },
        { b: buf(den), write: true }], grid(bh * dv));
    },
    CausalLinearAttentionGrad: (phiQ, phiK, v, out, den, dOut, bh, n, dk, dv, dPhiQ, dPhiK, dV) => {
      check(dk, dv);
      const u = { bh, n, eps: 0 };
      if (dPhiQ) {
        dev.dispatch(gradQ(dk, dv), u, [{ b: buf(phiK) }, { b: buf(v) }, { b: buf(out) }, { b: buf(den) }, { b: buf(dOut) },
          { b: buf(dPhiQ), write: true }], grid(bh * dk));
      }
      if (dPhiK) {
        dev.dispatch(gradK(dk, dv), u, [{ b: buf(phiQ) }, { b: buf(v) }, { b: buf(out) }, { b: buf(den) }, { b: buf(dOut) },
          { b: buf(dPhiK), write: true }], grid(bh * dk));
      }
      if (dV) {
        dev.dispatch(gradV(dk, dv), u, [{ b: buf(phiQ) }, { b: buf(phiK) }, { b: buf(den) }, { b: buf(dOut) },
          { b: buf(dV), write: true }], grid(bh * dv));
      }
    },
    LinearAttentionStep: (phiQ, phiK, v, S, z, bh, dk, dv, eps, out) => {
      dev.dispatch(STEP_UPDATE, { bh, dk, dv }, [{ b: buf(phiK) }, { b: buf(v) }, { b: buf(S), write: true }, { b: buf(z), write: true }],
        grid(bh * dk * dv));
      dev.dispatch(STEP_READ, { bh, dk, dv, eps }, [{ b: buf(phiQ) }, { b: buf(S) }, { b: buf(z) }, { b: buf(out), write: true }], grid(bh * dv));
    },
  };
}
