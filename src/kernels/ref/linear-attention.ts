// Linear attention, "Transformers are RNNs" (Katharopoulos et al., 2020). Inputs are the
// already feature-mapped φ(Q), φ(K) and V as contiguous [bh, n, dk|dv] rows. Causal attention
// is a running sum: S_i = Σ_{j≤i} φ(K_j) V_jᵀ (dk×dv), z_i = Σ_{j≤i} φ(K_j) (dk), and
//   V'_i = φ(Q_i)ᵀ S_i / den_i,   den_i = φ(Q_i)·z_i + eps.
// Only one S and one z (per batch×head, in turn) are ever held: O(N) memory, never N×dk×dv.
// The states are float64 scratch here (the reference is the oracle); outputs are float32.

/** Forward (the paper's eq. 9 / Algorithm 1, forward part), also writing den_i for the gradient. */
export function causalLinearAttention(phiQ: Float32Array, phiK: Float32Array, v: Float32Array, bh: number, n: number,
  dk: number, dv: number, eps: number, out: Float32Array, den: Float32Array): void {
  const S = new Float64Array(dk * dv);
  const z = new Float64Array(dk);
  for (let h = 0; h < bh; h++) {
    S.fill(0);
    z.fill(0);
    for (let i = 0; i < n; i++) {
      const qi = (h * n + i) * dk;
      const vi = (h * n + i) * dv;
      accumulateOuter(S, z, phiK, qi, v, vi, dk, dv);
      den[h * n + i] = readout(S, z, phiQ, qi, dk, dv, eps, out, vi);
    }
  }
}

/**
 * Gradient (the paper's Algorithm 1 / section 3.3.1, with the normaliser). With G_i = ∂L/∂V'_i,
 * gn_i = G_i / den_i (gradient of the numerator) and gd_i = -(G_i·V'_i) / den_i (of den_i):
 *   ∇φ(Q_i) = S_i gn_i + gd_i z_i                      forward cumulative sum (S, z)
 *   ∇φ(K_j) = R_j V_j + r_j,  ∇V_j = R_jᵀ φ(K_j)         reverse cumulative sum
 *   with R_j = Σ_{i≥j} φ(Q_i) gn_iᵀ (dk×dv), r_j = Σ_{i≥j} gd_i φ(Q_i) (dk).
 * A null output is not computed (its sweep is skipped when nobody wants it).
 */
export function causalLinearAttentionGrad(phiQ: Float32Array, phiK: Float32Array, v: Float32Array, out: Float32Array,
  den: Float32Array, dOut: Float32Array, bh: number, n: number, dk: number, dv: number,
  dPhiQ: Float32Array | null, dPhiK: Float32Array | null, dV: Float32Array | null): void {
  const S = new Float64Array(dk * dv); // S, then R in the reverse sweep
  const z = new Float64Array(dk); // z, then r
  const gn = new Float64Array(dv);
  // gn_i and gd_i for row r (of all bh*n rows) into `gn`; returns gd_i
  const rowGrads = (r: number): number => {
    const d = den[r]!;
    let gOut = 0;
    for (let b = 0; b < dv; b++) {
      const g = dOut[r * dv + b]!;
      gn[b] = g / d;
      gOut += g * out[r * dv + b]!;
    }
    return -gOut / d;
  };
  for (let h = 0; h < bh; h++) {
    if (dPhiQ) {
      S.fill(0);
      z.fill(0);
      for (let i = 0; i < n; i++) {
        const r = h * n + i;
        accumulateOuter(S, z, phiK, r * dk, v, r * dv, dk, dv);
        const gd = rowGrads(r);
        for (let a = 0; a < dk; a++) {
          let s = gd * z[a]!;
          for (let b = 0; b < dv; b++) s += S[a * dv + b]! * gn[b]!;
          dPhiQ[r * dk + a] = s;
        }
      }
    }
    if (dPhiK || dV) {
      S.fill(0);
      z.fill(0);
      for (let i = n - 1; i >= 0; i--) {
        const r = h * n + i;
        const gd = rowGrads(r);
        // R += φ(Q_i) gn_iᵀ, r += gd_i φ(Q_i)
        for (let a = 0; a < dk; a++) {
          const qa = phiQ[r * dk + a]!;
          z[a]! += gd * qa;
          for (let b = 0; b < dv; b++) S[a * dv + b]! += qa * gn[b]!;
        }
        if (dPhiK) {
          for (let a = 0; a < dk; a++) {
            let s = z[a]!;
            for (let b = 0; b < dv; b++) s += S[a * dv + b]! * v[r * dv + b]!;
            dPhiK[r * dk + a] = s;
          }
        }
        if (dV) {
          for (let b = 0; b < dv; b++) {
            let s = 0;
            for (let a = 0; a < dk; a++) s += S[a * dv + b]! * phiK[r * dk + a]!;
            dV[r * dv + b] = s;
          }
        }
      }
    }
  }
}

/**
 * The RNN form, one token for each of bh sequences: S += φ(k) vᵀ, z += φ(k) (in place, the
 * state S [bh, dk, dv] and z [bh, dk]), then out = φ(q)ᵀ S / (φ(q)·z + eps).
 */
export function linearAttentionStep(phiQ: Float32Array, phiK: Float32Array, v: Float32Array, S: Float32Array,
  z: Float32Array, bh: number, dk: number, dv: number, eps: number, out: Float32Array): void {
  for (let h = 0; h < bh; h++) {
    const Sh = S.subarray(h * dk * dv, (h + 1) * dk * dv);
    const zh = z.subarray(h * dk, (h + 1) * dk);
    accumulateOuter(Sh, zh, phiK, h * dk, v, h * dv, dk, dv);
    readout(Sh, zh, phiQ, h * dk, dk, dv, eps, out, h * dv);
  }
}

/** S += φk vᵀ and z += φk, for the row of φk at kOff and of v at vOff. */
function accumulateOuter(S: Float64Array | Float32Array, z: Float64Array | Float32Array, phiK: Float32Array, kOff: number,
  v: Float32Array, vOff: number, dk: number, dv: number): void {
  for (let a = 0; a < dk; a++) {
    const ka = phiK[kOff + a]!;
    z[a]! += ka;
    for (let b = 0; b < dv; b++) S[a * dv + b]! += ka * v[vOff + b]!;
  }
}

/** out[outOff..] = φqᵀ S / den with den = φq·z + eps (φq's row at qOff); returns den. */
function readout(S: Float64Array | Float32Array, z: Float64Array | Float32Array, phiQ: Float32Array, qOff: number,
  dk: number, dv: number, eps: number, out: Float32Array, outOff: number): number {
  let d = eps;
  for (let a = 0; a < dk; a++) d += phiQ[qOff + a]! * z[a]!;
  for (let b = 0; b < dv; b++) {
    let s = 0;
    for (let a = 0; a < dk; a++) s += phiQ[qOff + a]! * S[a * dv + b]!;
    out[outOff + b] = s / d;
  }
  return d;
}
