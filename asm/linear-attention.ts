// Causal linear attention ("Transformers are RNNs", Katharopoulos et al., 2020) over contiguous
// [bh, n, dk] φ(Q), φ(K) and [bh, n, dv] V, as the reference kernel (src/kernels/ref/
// linear-attention.ts): one dk×dv state S and one dk state z per bh, in a caller-given scratch
// (linear_attention_scratch(dk, dv) bytes, 16-byte aligned), over the bh range [bh0, bh1), so
// disjoint ranges can run at the same time, each with its own scratch. States are float32 (the
// reference keeps them in float64); the row loops update a block of S and read it out in one pass.
import { hsum, madd, splat } from './simd';

// @ts-ignore: decorator
@inline function pad4(n: i32): usize {
  return <usize>((n + 3) & ~3);
}

/** Bytes of scratch one call needs: S (dk×dv), z (dk), and a dv row (gradient), each padded to 16 bytes. */
export function linear_attention_scratch(dk: i32, dv: i32): i32 {
  return <i32>((pad4(dk * dv) + pad4(dk) + pad4(dv)) << 2);
}

/** z += k over dk values; returns eps + q·z (the updated z). */
// @ts-ignore: decorator
@inline function addAndDot(z: usize, k: usize, q: usize, dk: i32, eps: f32): f32 {
  let acc = splat(0);
  let a = 0;
  for (; a + 4 <= dk; a += 4) {
    const o = <usize>a << 2;
    const zv = f32x4.add(v128.load(z + o), v128.load(k + o));
    v128.store(z + o, zv);
    acc = madd(v128.load(q + o), zv, acc);
  }
  let d = eps + hsum(acc);
  for (; a < dk; a++) {
    const o = <usize>a << 2;
    const zv = load<f32>(z + o) + load<f32>(k + o);
    store<f32>(z + o, zv);
    d += load<f32>(q + o) * zv;
  }
  return d;
}

/**
 * The forward step of one row: S += k vᵀ (rows of S dv apart), then out = qᵀ S / d; S is read
 * once and written once per step, 16 columns (four vectors) at a time while they last.
 */
// @ts-ignore: decorator
@inline function accumulateReadout(S: usize, k: usize, v: usize, q: usize, dk: i32, dv: i32, d: f32, out: usize): void {
  const rowBytes = <usize>dv << 2;
  const dd = splat(d);
  let b = 0;
  for (; b + 16 <= dv; b += 16) {
    const o = <usize>b << 2;
    const v0 = v128.load(v + o);
    const v1 = v128.load(v + o, 16);
    const v2 = v128.load(v + o, 32);
    const v3 = v128.load(v + o, 48);
    let a0 = splat(0);
    let a1 = splat(0);
    let a2 = splat(0);
    let a3 = splat(0);
    let s = S + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const ka = v128.load32_splat(k + (<usize>a << 2));
      const qa = v128.load32_splat(q + (<usize>a << 2));
      const s0 = madd(ka, v0, v128.load(s));
      const s1 = madd(ka, v1, v128.load(s, 16));
      const s2 = madd(ka, v2, v128.load(s, 32));
      const s3 = madd(ka, v3, v128.load(s, 48));
      v128.store(s, s0);
      v128.store(s, s1, 16);
      v128.store(s, s2, 32);
      v128.store(s, s3, 48);
      a0 = madd(qa, s0, a0);
      a1 = madd(qa, s1, a1);
      a2 = madd(qa, s2, a2);
      a3 = madd(qa, s3, a3);
    }
    v128.store(out + o, f32x4.div(a0, dd));
    v128.store(out + o, f32x4.div(a1, dd), 16);
    v128.store(out + o, f32x4.div(a2, dd), 32);
    v128.store(out + o, f32x4.div(a3, dd), 48);
  }
  for (; b + 4 <= dv; b += 4) {
    const o = <usize>b << 2;
    const v0 = v128.load(v + o);
    let a0 = splat(0);
    let s = S + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const s0 = madd(v128.load32_splat(k + (<usize>a << 2)), v0, v128.load(s));
      v128.store(s, s0);
      a0 = madd(v128.load32_splat(q + (<usize>a << 2)), s0, a0);
    }
    v128.store(out + o, f32x4.div(a0, dd));
  }
  for (; b < dv; b++) {
    const o = <usize>b << 2;
    const vb = load<f32>(v + o);
    let acc: f32 = 0;
    let s = S + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const sv = load<f32>(s) + load<f32>(k + (<usize>a << 2)) * vb;
      store<f32>(s, sv);
      acc += load<f32>(q + (<usize>a << 2)) * sv;
    }
    store<f32>(out + o, acc / d);
  }
}

/** out_i = φq_iᵀ S_i / den_i, den_i = φq_i·z_i + eps, for bh in [bh0, bh1); den is [bh, n]. */
export function causal_linear_attention(phiQ: usize, phiK: usize, v: usize, n: i32, dk: i32, dv: i32, eps: f32,
  out: usize, den: usize, scratch: usize, bh0: i32, bh1: i32): void {
  const S = scratch;
  const z = S + (pad4(dk * dv) << 2);
  const kBytes = <usize>dk << 2;
  const vBytes = <usize>dv << 2;
  for (let h = bh0; h < bh1; h++) {
    memory.fill(S, 0, <usize>(dk * dv) << 2);
    memory.fill(z, 0, kBytes);
    for (let i = 0; i < n; i++) {
      const r = <usize>h * <usize>n + <usize>i;
      const q = phiQ + r * kBytes;
      const k = phiK + r * kBytes;
      const d = addAndDot(z, k, q, dk, eps);
      store<f32>(den + (r << 2), d);
      accumulateReadout(S, k, v + r * vBytes, q, dk, dv, d, out + r * vBytes);
    }
  }
}

/** One RNN step for bh in [bh0, bh1): S [bh, dk, dv] += φk vᵀ and z [bh, dk] += φk in place, out [bh, dv] = φqᵀ S / (φq·z + eps). */
export function linear_attention_step(phiQ: usize, phiK: usize, v: usize, S: usize, z: usize, dk: i32, dv: i32, eps: f32,
  out: usize, bh0: i32, bh1: i32): void {
  const kBytes = <usize>dk << 2;
  const vBytes = <usize>dv << 2;
  const sBytes = <usize>(dk * dv) << 2;
  for (let h = bh0; h < bh1; h++) {
    const hh = <usize>h;
    const q = phiQ + hh * kBytes;
    const k = phiK + hh * kBytes;
    const d = addAndDot(z + hh * kBytes, k, q, dk, eps);
    accumulateReadout(S + hh * sBytes, k, v + hh * vBytes, q, dk, dv, d, out + hh * vBytes);
  }
}

/** gn = dOut_r / den_r (dv values); returns gd = -(dOut_r·out_r) / den_r. */
// @ts-ignore: decorator
@inline function rowGrads(dOut: usize, out: usize, d: f32, dv: i32, gn: usize): f32 {
  const dd = splat(d);
  let acc = splat(0);
  let b = 0;
  for (; b + 4 <= dv; b += 4) {
    const o = <usize>b << 2;
    const g = v128.load(dOut + o);
    v128.store(gn + o, f32x4.div(g, dd));
    acc = madd(g, v128.load(out + o), acc);
  }
  let s = hsum(acc);
  for (; b < dv; b++) {
    const o = <usize>b << 2;
    const g = load<f32>(dOut + o);
    store<f32>(gn + o, g / d);
    s += g * load<f32>(out + o);
  }
  return -s / d;
}

/** Σ_b M[b] x[b] over dv values (one row of a state against a vector). */
// @ts-ignore: decorator
@inline function dotRow(m: usize, x: usize, dv: i32): f32 {
  let acc = splat(0);
  let b = 0;
  for (; b + 4 <= dv; b += 4) {
    const o = <usize>b << 2;
    acc = madd(v128.load(m + o), v128.load(x + o), acc);
  }
  let s = hsum(acc);
  for (; b < dv; b++) s += load<f32>(m + (<usize>b << 2)) * load<f32>(x + (<usize>b << 2));
  return s;
}

/**
 * The forward sweep of the gradient for one row: S += k vᵀ, z += k (rows of S dv apart), then
 * dq[a] = Σ_b S[a,b] gn[b] + gd z[a].
 */
// @ts-ignore: decorator
@inline function gradQRow(S: usize, z: usize, k: usize, v: usize, gn: usize, gd: f32, dk: i32, dv: i32, dq: usize): void {
  const rowBytes = <usize>dv << 2;
  let s = S;
  for (let a = 0; a < dk; a++, s += rowBytes) {
    const ao = <usize>a << 2;
    const kas = load<f32>(k + ao);
    const ka = splat(kas);
    let acc = splat(0);
    let b = 0;
    for (; b + 4 <= dv; b += 4) {
      const o = <usize>b << 2;
      const sv = madd(ka, v128.load(v + o), v128.load(s + o));
      v128.store(s + o, sv);
      acc = madd(sv, v128.load(gn + o), acc);
    }
    let t = hsum(acc);
    for (; b < dv; b++) {
      const o = <usize>b << 2;
      const sv = load<f32>(s + o) + kas * load<f32>(v + o);
      store<f32>(s + o, sv);
      t += sv * load<f32>(gn + o);
    }
    const za = load<f32>(z + ao) + kas;
    store<f32>(z + ao, za);
    store<f32>(dq + ao, t + gd * za);
  }
}

/**
 * The reverse sweep of the gradient for one row: R += q gnᵀ (rows dv apart), then
 * dV[b] = Σ_a R[a,b] k[a] (when dV is not 0), 16 columns at a time while they last.
 */
// @ts-ignore: decorator
@inline function gradVRow(R: usize, q: usize, k: usize, gn: usize, dk: i32, dv: i32, dV: usize): void {
  const rowBytes = <usize>dv << 2;
  let b = 0;
  for (; b + 16 <= dv; b += 16) {
    const o = <usize>b << 2;
    const g0 = v128.load(gn + o);
    const g1 = v128.load(gn + o, 16);
    const g2 = v128.load(gn + o, 32);
    const g3 = v128.load(gn + o, 48);
    let a0 = splat(0);
    let a1 = splat(0);
    let a2 = splat(0);
    let a3 = splat(0);
    let s = R + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const qa = v128.load32_splat(q + (<usize>a << 2));
      const s0 = madd(qa, g0, v128.load(s));
      const s1 = madd(qa, g1, v128.load(s, 16));
      const s2 = madd(qa, g2, v128.load(s, 32));
      const s3 = madd(qa, g3, v128.load(s, 48));
      v128.store(s, s0);
      v128.store(s, s1, 16);
      v128.store(s, s2, 32);
      v128.store(s, s3, 48);
      if (dV) {
        const ka = v128.load32_splat(k + (<usize>a << 2));
        a0 = madd(ka, s0, a0);
        a1 = madd(ka, s1, a1);
        a2 = madd(ka, s2, a2);
        a3 = madd(ka, s3, a3);
      }
    }
    if (dV) {
      v128.store(dV + o, a0);
      v128.store(dV + o, a1, 16);
      v128.store(dV + o, a2, 32);
      v128.store(dV + o, a3, 48);
    }
  }
  for (; b + 4 <= dv; b += 4) {
    const o = <usize>b << 2;
    const g0 = v128.load(gn + o);
    let a0 = splat(0);
    let s = R + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const s0 = madd(v128.load32_splat(q + (<usize>a << 2)), g0, v128.load(s));
      v128.store(s, s0);
      if (dV) a0 = madd(v128.load32_splat(k + (<usize>a << 2)), s0, a0);
    }
    if (dV) v128.store(dV + o, a0);
  }
  for (; b < dv; b++) {
    const o = <usize>b << 2;
    const gb = load<f32>(gn + o);
    let acc: f32 = 0;
    let s = R + o;
    for (let a = 0; a < dk; a++, s += rowBytes) {
      const sv = load<f32>(s) + load<f32>(q + (<usize>a << 2)) * gb;
      store<f32>(s, sv);
      if (dV) acc += sv * load<f32>(k + (<usize>a << 2));
    }
    if (dV) store<f32>(dV + o, acc);
  }
}

/**
 * The paper's gradient (forward cumulative sum for φq, reverse for φk and v), through den, for
 * bh in [bh0, bh1); dPhiQ, dPhiK, dV may be 0 (not wanted: that sweep or part is skipped).
 */
export function causal_linear_attention_grad(phiQ: usize, phiK: usize, v: usize, out: usize, den: usize, dOut: usize,
  n: i32, dk: i32, dv: i32, dPhiQ: usize, dPhiK: usize, dV: usize, scratch: usize, bh0: i32, bh1: i32): void {
  const S = scratch;
  const z = S + (pad4(dk * dv) << 2);
  const gn = z + (pad4(dk) << 2);
  const kBytes = <usize>dk << 2;
  const vBytes = <usize>dv << 2;
  const rowBytes = <usize>dv << 2;
  for (let h = bh0; h < bh1; h++) {
    const first = <usize>h * <usize>n;
    if (dPhiQ) {
      memory.fill(S, 0, <usize>(dk * dv) << 2);
      memory.fill(z, 0, kBytes);
      for (let i = 0; i < n; i++) {
        const r = first + <usize>i;
        const gd = rowGrads(dOut + r * vBytes, out + r * vBytes, load<f32>(den + (r << 2)), dv, gn);
        gradQRow(S, z, phiK + r * kBytes, v + r * vBytes, gn, gd, dk, dv, dPhiQ + r * kBytes);
      }
    }
    if (dPhiK || dV) {
      memory.fill(S, 0, <usize>(dk * dv) << 2);
      memory.fill(z, 0, kBytes);
      for (let i = n - 1; i >= 0; i--) {
        const r = first + <usize>i;
        const q = phiQ + r * kBytes;
        const gd = rowGrads(dOut + r * vBytes, out + r * vBytes, load<f32>(den + (r << 2)), dv, gn);
        // r += gd q
        const gdv = splat(gd);
        let a = 0;
        for (; a + 4 <= dk; a += 4) {
          const o = <usize>a << 2;
          v128.store(z + o, madd(gdv, v128.load(q + o), v128.load(z + o)));
        }
        for (; a < dk; a++) {
          const o = <usize>a << 2;
          store<f32>(z + o, load<f32>(z + o) + gd * load<f32>(q + o));
        }
        if (dV) gradVRow(S, q, phiK + r * kBytes, gn, dk, dv, dV + r * vBytes);
        else gradVRow(S, q, phiK + r * kBytes, gn, dk, dv, 0);
        if (dPhiK) {
          const vr = v + r * vBytes;
          const dkr = dPhiK + r * kBytes;
          let s = S;
          for (a = 0; a < dk; a++, s += rowBytes) {
            const o = <usize>a << 2;
            store<f32>(dkr + o, load<f32>(z + o) + dotRow(s, vr, dv));
          }
        }
      }
    }
  }
}
