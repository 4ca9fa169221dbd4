// Linear attention, "Transformers are RNNs" (Katharopoulos et al., 2020), as the lecture
// presents it: softmax(q·k) is replaced by the kernel φ(q)·φ(k) with φ(x) = elu(x) + 1, so
//   V'_i = φ(Q_i)ᵀ S / (φ(Q_i)ᵀ z + eps),   S = Σ_j φ(K_j) V_jᵀ (dk×dv),   z = Σ_j φ(K_j)
// and S, z are computed once for all queries: O(N) time and memory instead of O(N²).
// Causal attention sums over j ≤ i only; that is an RNN whose state (S, z) has a constant
// size (LinearAttentionState, in nn/attention/linear-attention-state.ts), and its parallel form runs as fused kernels whose
// gradient is the paper's memory-efficient Algorithm 1 (never an N×dk×dv tensor).
//
// Masks. Linear attention never forms the N×N attention matrix, so it honours only masks that
// act on keys alone, plus the causal order:
//   - `causal: true` (j ≤ i);
//   - `keyPaddingMask` (B, N), nonzero = padding: φ(K_j) and V_j are zeroed there, which
//     removes key j from S and z, i.e. no query attends to it.
// An arbitrary (N, N) mask, a window (truncated) mask or a graph adjacency cannot be honoured;
// use softmax attention for those. Outputs at padded query positions are computed but meaningless.
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { add, div, elu, maskedFill } from './elementwise.js';
import { matmul } from './linalg.js';
import { sum } from './reduce.js';
import { checkDtype, checkTensor, contiguousTensor, f32, isWhole, ownerOf, release } from './util.js';
import { reshape, transpose } from './views.js';

export interface LinearAttentionOptions {
  /** Sum over keys j ≤ i only (the RNN form). Default false. */
  causal?: boolean;
  /** φ, applied to q and k along the last axis; default elu(x) + 1 (keeps φ > 0). */
  featureMap?: (x: Tensor) => Tensor;
  /** Added to the normaliser φ(Q_i)ᵀ z. Default 1e-6. */
  eps?: number;
  /** (B, N) over keys, nonzero = padding (do not attend there). */
  keyPaddingMask?: Tensor | null;
}

/** The paper's feature map φ(x) = elu(x) + 1, made of ops so its gradient flows. */
export function eluFeatureMap(x: Tensor): Tensor {
  return add(elu(x), 1);
}

/**
 * Linear attention of per-head q, k: (B, H, N, dk) and v: (B, H, N, dv), float32; returns
 * (B, H, N, dv). Non-causal q may have another length than k and v (cross-attention).
 */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, options: LinearAttentionOptions = {}): Tensor {
  const op = 'linearAttention';
  const { causal = false, featureMap = eluFeatureMap, eps = 1e-6, keyPaddingMask = null } = options;
  checkInputs(op, q, k, v, causal, eps, keyPaddingMask);
  return tidy(() => {
    const phiQ = mapFeatures(op, featureMap, q, 'q');
    let phiK = mapFeatures(op, featureMap, k, 'k');
    if (phiQ.shape[3] !== phiK.shape[3]) {
      throw new OpError(op, `featureMap gave φ(q) ${shapeStr(phiQ.shape)} and φ(k) ${shapeStr(phiK.shape)} different feature sizes`);
    }
    let vm = v;
    if (keyPaddingMask) {
      const m = reshape(keyPaddingMask, [k.shape[0]!, 1, k.shape[2]!, 1]);
      phiK = maskedFill(phiK, m, 0);
      vm = maskedFill(v, m, 0);
    }
    return causal ? causalLinearAttention(phiQ, phiK, vm, eps) : nonCausal(phiQ, phiK, vm, eps);
  });
}

/** Non-causal, from ops (already O(N)): S and z once, then every query reads them out. */
function nonCausal(phiQ: Tensor, phiK: Tensor, v: Tensor, eps: number): Tensor {
  const S = matmul(transpose(phiK), v); // (B, H, dk, dv) = Σ_j φ(K_j) V_jᵀ
  const z = sum(phiK, 2, true); // (B, H, 1, dk) = Σ_j φ(K_j)
  const num = matmul(phiQ, S); // (B, H, Nq, dv)
  const den = add(matmul(phiQ, transpose(z)), eps); // (B, H, Nq, 1)
  return div(num, den);
}

/** Causal, as the fused kernels; saves φq, φk, v, the output and den_i (all O(N)). */
function causalLinearAttention(phiQ: Tensor, phiK: Tensor, v: Tensor, eps: number): Tensor {
  const [B, H, n, dk] = phiQ.shape as [number, number, number, number];
  const dv = v.shape[3]!;
  const bh = B * H;
  const be = ownerOf('linearAttention', phiQ, phiK, v);
  const out = Tensor.empty([B, H, n, dv], 'float32', be);
  const den = Tensor.empty([B, H, n], 'float32', be);
  const [q, k, vc] = [contiguousTensor(phiQ), contiguousTensor(phiK), contiguousTensor(v)];
  // typed arrays are read after every allocation (a WebAssembly memory may grow and move)
  kernel('CausalLinearAttention', be)(f32(q), f32(k), f32(vc), bh, n, dk, dv, eps, f32(out), f32(den));
  release(q, phiQ);
  release(k, phiK);
  release(vc, v);
  return record('linearAttention', [phiQ, phiK, v], out, (g, [pq, pk, pv, po, pd], needs) => {
    const gbe = ownerOf('linearAttention', pq, g);
    const dq = needs[0] ? Tensor.empty(pq!.shape, 'float32', gbe) : null;
    const dkk = needs[1] ? Tensor.empty(pk!.shape, 'float32', gbe) : null;
    const dvv = needs[2] ? Tensor.empty(pv!.shape, 'float32', gbe) : null;
    const ins = [pq!, pk!, pv!, po!, pd!, g];
    const cs = ins.map(contiguousTensor);
    const [cq, ck, cv, co, cd, cg] = cs.map(f32) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    kernel('CausalLinearAttentionGrad', gbe)(cq, ck, cv, co, cd, cg, bh, n, dk, dv, dq && f32(dq), dkk && f32(dkk), dvv && f32(dvv));
    cs.forEach((c, i) => release(c, ins[i]!));
    return [dq, dkk, dvv];
  }, [phiQ, phiK, v, out, den]);
}

function checkEps(op: string, eps: number): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new OpError(op, `eps must be a finite number >= 0, got ${eps}`);
  return eps;
}

function mapFeatures(op: string, featureMap: (x: Tensor) => Tensor, x: Tensor, name: string): Tensor {
  const y = checkTensor(op, featureMap(x), `featureMap(${name})`);
  checkDtype(op, y, 'float32', `featureMap(${name})`);
  if (y.rank !== 4 || y.shape.slice(0, 3).join() !== x.shape.slice(0, 3).join()) {
    throw new OpError(op, `featureMap turned ${name} ${shapeStr(x.shape)} into ${shapeStr(y.shape)}; it must keep (B, H, N)`);
  }
  return y;
}

function checkInputs(op: string, q: Tensor, k: Tensor, v: Tensor, causal: boolean, eps: number, mask: Tensor | null): void {
  for (const [name, x] of [['q', q], ['k', k], ['v', v]] as const) {
    checkTensor(op, x, name);
    checkDtype(op, x, 'float32', name);
  }
  const shapes = `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new OpError(op, `${shapes}: each must be (B, H, N, d)`);
  const [B, H, nq, dq] = q.shape;
  const [Bk, Hk, nk, dk] = k.shape;
  if (Bk !== B || Hk !== H || dk !== dq) throw new OpError(op, `${shapes}: q and k must agree on batch, heads and dk`);
  if (v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== nk) throw new OpError(op, `${shapes}: k and v must agree on batch, heads and length`);
  if (causal && nq !== nk) throw new OpError(op, `${shapes}: causal attention needs as many queries as keys (${nq} != ${nk})`);
  checkEps(op, eps);
  if (mask) {
    checkTensor(op, mask, 'keyPaddingMask');
    if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== nk) {
      throw new OpError(op, `keyPaddingMask of shape ${shapeStr(mask.shape)} must be (B, N) = [${B}, ${nk}] for k ${shapeStr(k.shape)}`);
    }
  }
}

/**
 * One position of the RNN form, in place: S (B, H, dk, dv) += φk vᵀ, z (B, H, dk) += φk, and
 * out = φqᵀ S / (φq·z + eps) (B, H, dv). φq, φk (B, H, dk) are already feature-mapped. No gradient
 * (generation); train with the parallel form. LinearAttentionState.step calls it.
 */
export function linearAttentionStep(phiQ: Tensor, phiK: Tensor, v: Tensor, S: Tensor, z: Tensor, eps: number): Tensor {
  const op = 'linearAttentionStep';
  for (const [name, x] of [['phiQ', phiQ], ['phiK', phiK], ['v', v], ['S', S], ['z', z]] as const) {
    checkTensor(op, x, name);
    checkDtype(op, x, 'float32', name);
  }
  checkEps(op, eps);
  const [B, H, dk] = phiQ.shape as [number, number, number];
  const dv = v.shape[2]!;
  if (phiQ.rank !== 3 || phiK.shape.join() !== phiQ.shape.join() || v.rank !== 3 || v.shape[0] !== B || v.shape[1] !== H ||
    S.shape.join() !== [B, H, dk, dv].join() || z.shape.join() !== [B, H, dk].join()) {
    throw new OpError(op, `φq ${shapeStr(phiQ.shape)}, φk ${shapeStr(phiK.shape)}, v ${shapeStr(v.shape)}, S ${shapeStr(S.shape)}, z ${shapeStr(z.shape)} do not fit (B, H, dk), (B, H, dv), (B, H, dk, dv), (B, H, dk)`);
  }
  if (!isWhole(S) || !isWhole(z)) throw new OpError(op, 'S and z must be whole contiguous tensors (they are updated in place)');
  const be = ownerOf(op, phiQ, phiK, v, S, z);
  return tidy(() => {
    const out = Tensor.empty([B, H, dv], 'float32', be);
    const [cq, ck, cv] = [phiQ, phiK, v].map(contiguousTensor) as [Tensor, Tensor, Tensor]; // copies: freed by the tidy
    // typed arrays are read after every allocation (a WebAssembly memory may grow and move)
    kernel('LinearAttentionStep', be)(f32(cq), f32(ck), f32(cv), f32(S), f32(z), B * H, dk, dv, eps, f32(out));
    S.bumpVersion();
    z.bumpVersion();
    return out;
  });
}
