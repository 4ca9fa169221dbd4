// 1-D convolution (cross-correlation, as PyTorch), with stride, zero padding, dilation and groups.
// x [B, Cin, L], w [Cout, Cin/groups, K] -> y [B, Cout, Lout]; the input position of output t
// and tap k is t*stride - padLeft + k*dilation, and positions outside [0, L) read zero.
// Each tap runs over the output positions whose input position is inside [0, L).
import type { Conv1dArgs } from '../contract.js';

/** The output positions t (a range) whose input position for tap k falls inside the input. */
function validRange(a: Conv1dArgs, k: number): [number, number] {
  const shift = k * a.dilation - a.padLeft; // pos = t*stride + shift
  const lo = Math.max(0, Math.ceil(-shift / a.stride));
  const hi = Math.min(a.outLength, Math.floor((a.length - 1 - shift) / a.stride) + 1);
  return [lo, Math.max(lo, hi)];
}

export function conv1d(x: Float32Array, w: Float32Array, a: Conv1dArgs, out: Float32Array): void {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const acc = new Float64Array(a.outLength);
  for (let b = 0; b < a.batch; b++) {
    for (let co = 0; co < a.cout; co++) {
      acc.fill(0);
      const g = Math.floor(co / coutG);
      for (let cg = 0; cg < cinG; cg++) {
        const xBase = (b * a.cin + g * cinG + cg) * a.length;
        for (let k = 0; k < a.kernel; k++) {
          const wv = w[(co * cinG + cg) * a.kernel + k]!;
          const [lo, hi] = validRange(a, k);
          const shift = k * a.dilation - a.padLeft;
          for (let t = lo; t < hi; t++) acc[t]! += wv * x[xBase + t * a.stride + shift]!;
        }
      }
      out.set(acc, (b * a.cout + co) * a.outLength);
    }
  }
}

export function conv1dGradInput(dy: Float32Array, w: Float32Array, a: Conv1dArgs, dx: Float32Array): void {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const acc = new Float64Array(dx.length);
  for (let b = 0; b < a.batch; b++) {
    for (let co = 0; co < a.cout; co++) {
      const g = Math.floor(co / coutG);
      const yBase = (b * a.cout + co) * a.outLength;
      for (let cg = 0; cg < cinG; cg++) {
        const xBase = (b * a.cin + g * cinG + cg) * a.length;
        for (let k = 0; k < a.kernel; k++) {
          const wv = w[(co * cinG + cg) * a.kernel + k]!;
          const [lo, hi] = validRange(a, k);
          const shift = k * a.dilation - a.padLeft;
          for (let t = lo; t < hi; t++) acc[xBase + t * a.stride + shift]! += wv * dy[yBase + t]!;
        }
      }
    }
  }
  dx.set(acc);
}

export function conv1dGradWeight(dy: Float32Array, x: Float32Array, a: Conv1dArgs, dw: Float32Array): void {
  const cinG = a.cin / a.groups;
  const coutG = a.cout / a.groups;
  const acc = new Float64Array(dw.length);
  for (let b = 0; b < a.batch; b++) {
    for (let co = 0; co < a.cout; co++) {
      const g = Math.floor(co / coutG);
      const yBase = (b * a.cout + co) * a.outLength;
      for (let cg = 0; cg < cinG; cg++) {
        const xBase = (b * a.cin + g * cinG + cg) * a.length;
        for (let k = 0; k < a.kernel; k++) {
          const [lo, hi] = validRange(a, k);
          const shift = k * a.dilation - a.padLeft;
          let s = 0;
          for (let t = lo; t < hi; t++) s += x[xBase + t * a.stride + shift]! * dy[yBase + t]!;
          acc[(co * cinG + cg) * a.kernel + k]! += s;
        }
      }
    }
  }
  dw.set(acc);
}
