// 1-D convolution (cross-correlation, as PyTorch), with stride, zero padding, dilation and groups.
// x [B, Cin, L], w [Cout, Cin/groups, K] -> y [B, Cout, Lout]; input position of (t, k) is
// t*stride - padLeft + k*dilation, and positions outside [0, L) read zero.
import type { Conv1dArgs } from '../contract.js';

function forEachTap(a: Conv1dArgs, fn: (b: number, co: number, ci: number, wi: number, t: number, pos: number) => void): void {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  for (let b = 0; b < a.batch; b++) {
    for (let co = 0; co < a.cout; co++) {
      const g = Math.floor(co / coutG);
      for (let cg = 0; cg < cinG; cg++) {
        const ci = g * cinG + cg;
        for (let k = 0; k < a.kernel; k++) {
          const wi = (co * cinG + cg) * a.kernel + k;
          for (let t = 0; t < a.outLength; t++) {
            const pos = t * a.stride - a.padLeft + k * a.dilation;
            if (pos >= 0 && pos < a.length) fn(b, co, ci, wi, t, pos);
          }
        }
      }
    }
  }
}

export function conv1d(x: Float32Array, w: Float32Array, a: Conv1dArgs, out: Float32Array): void {
  const acc = new Float64Array(out.length);
  forEachTap(a, (b, co, ci, wi, t, pos) => {
    acc[(b * a.cout + co) * a.outLength + t]! += w[wi]! * x[(b * a.cin + ci) * a.length + pos]!;
  });
  out.set(acc);
}

export function conv1dGradInput(dy: Float32Array, w: Float32Array, a: Conv1dArgs, dx: Float32Array): void {
  const acc = new Float64Array(dx.length);
  forEachTap(a, (b, co, ci, wi, t, pos) => {
    acc[(b * a.cin + ci) * a.length + pos]! += w[wi]! * dy[(b * a.cout + co) * a.outLength + t]!;
  });
  dx.set(acc);
}

export function conv1dGradWeight(dy: Float32Array, x: Float32Array, a: Conv1dArgs, dw: Float32Array): void {
  const acc = new Float64Array(dw.length);
  forEachTap(a, (b, co, ci, wi, t, pos) => {
    acc[wi]! += x[(b * a.cin + ci) * a.length + pos]! * dy[(b * a.cout + co) * a.outLength + t]!;
  });
  dw.set(acc);
}
