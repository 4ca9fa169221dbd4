// The RNN form of causal linear attention ("Transformers are RNNs", Katharopoulos et al., 2020,
// section 3.4): with S_i = Σ_{j≤i} φ(K_j) V_jᵀ and z_i = Σ_{j≤i} φ(K_j), position i's output is
// φ(Q_i)ᵀ S_i / (φ(Q_i)ᵀ z_i + eps), so generation needs only the constant-size state (S, z).
import { OpError, shapeStr } from '../../core/errors.js';
import { keep, noGrad, tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { zeros } from '../../ops/creation.js';
import { indexSelect } from '../../ops/embedding.js';
import { maskedFill } from '../../ops/elementwise.js';
import { fill_ } from '../../ops/inplace.js';
import { eluFeatureMap, linearAttentionStep } from '../../ops/linear-attention.js';
import { checkDtype, checkTensor } from '../../ops/util.js';
import { reshape } from '../../ops/views.js';

/**
 * The RNN form of causal linear attention: the state S = Σ_t φ(k_t) v_tᵀ (B, H, dk, dv) and
 * z = Σ_t φ(k_t) (B, H, dk), updated in place one position at a time. step() gives the same
 * outputs as linearAttention(..., {causal: true}) at that position, in O(1) time and memory per
 * token. It records no gradient (generation/inference); train with the parallel form.
 * `dk` is the size of φ(k) (= the head size for the default φ).
 */
export class LinearAttentionState {
  /** (B, H, dk, dv) */
  S: Tensor;
  /** (B, H, dk) */
  z: Tensor;
  /** Positions consumed so far. */
  steps = 0;

  /** Positions consumed so far (a DecodingCache's length). */
  get length(): number {
    return this.steps;
  }
  private readonly featureMap: (x: Tensor) => Tensor;
  private readonly eps: number;

  constructor(public batch: number, readonly heads: number, readonly dk: number, readonly dv: number,
    options: { featureMap?: (x: Tensor) => Tensor; eps?: number } = {}) {
    const op = 'LinearAttentionState';
    for (const [name, d] of [['batch', batch], ['heads', heads], ['dk', dk], ['dv', dv]] as const) {
      if (!Number.isInteger(d) || d < 1) throw new OpError(op, `${name} must be a positive integer, got ${d}`);
    }
    this.featureMap = options.featureMap ?? eluFeatureMap;
    const eps = options.eps ?? 1e-6;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new OpError(op, `eps must be a finite number >= 0, got ${eps}`);
    this.eps = eps;
    this.S = keep(zeros([batch, heads, dk, dv]));
    this.z = keep(zeros([batch, heads, dk]));
  }

  /**
   * One position: q_t, k_t (B, H, dq) and v_t (B, H, dv) → (B, H, dv). S += φ(k_t) v_tᵀ,
   * z += φ(k_t), out = φ(q_t)ᵀ S / (φ(q_t)ᵀ z + eps). keyPaddingMask (B), nonzero = this position
   * is padding for that sequence: the state is left unchanged there.
   */
  step(q: Tensor, k: Tensor, v: Tensor, keyPaddingMask?: Tensor | null): Tensor {
    const op = 'LinearAttentionState.step';
    const { batch: B, heads: H, dk, dv } = this;
    for (const [name, x] of [['q', q], ['k', k], ['v', v]] as const) {
      checkTensor(op, x, name);
      checkDtype(op, x, 'float32', name);
    }
    if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3 || q.shape.join() !== k.shape.join() || q.shape[0] !== B || q.shape[1] !== H ||
      v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== dv) {
      throw new OpError(op, `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not fit a state of ` +
        `B=${B}, H=${H}, dv=${dv}: q and k must be (B, H, dq), v (B, H, dv)`);
    }
    if (keyPaddingMask && (checkTensor(op, keyPaddingMask, 'keyPaddingMask').shape.join() !== String(B))) {
      throw new OpError(op, `keyPaddingMask of shape ${shapeStr(keyPaddingMask.shape)} must be (B) = [${B}]`);
    }
    this.S.live(op);
    return noGrad(() => tidy(() => {
      const phiQ = this.featureMap(q);
      let phiK = this.featureMap(k);
      let vm = v;
      if (phiQ.shape.join() !== [B, H, dk].join() || phiK.shape.join() !== [B, H, dk].join()) {
        throw new OpError(op, `featureMap gave φ(q) ${shapeStr(phiQ.shape)} and φ(k) ${shapeStr(phiK.shape)}, not [${B}, ${H}, ${dk}]`);
      }
      if (keyPaddingMask) {
        const m = reshape(keyPaddingMask, [B, 1, 1]);
        phiK = maskedFill(phiK, m, 0);
        vm = maskedFill(v, m, 0);
      }
      const out = linearAttentionStep(phiQ, phiK, vm, this.S, this.z, this.eps); // (B, H, dv); S and z updated in place
      this.steps++;
      return out;
    }));
  }

  /** Back to the empty state (S = 0, z = 0). */
  reset(): void {
    noGrad(() => {
      fill_(this.S, 0);
      fill_(this.z, 0);
    });
    this.steps = 0;
  }

  /**
   * Beam search: sequence i of the state continues the old sequence index[i] (hypotheses that
   * fork share their past). The batch becomes index.length.
   */
  reorder(index: ArrayLike<number>): void {
    noGrad(() => {
      const S = keep(indexSelect(this.S, index));
      const z = keep(indexSelect(this.z, index));
      this.S.dispose();
      this.z.dispose();
      [this.S, this.z, this.batch] = [S, z, index.length];
    });
  }

  dispose(): void {
    this.S.dispose();
    this.z.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
