// Multi-head attention (lecture §4: several sets of q, k, v per position, each head attends
// on its own; the heads' outputs are concatenated and mixed by W^O), with the semantics and
// parameter names of torch.nn.MultiheadAttention (batch_first=True):
//   in_proj_weight (3E, E), in_proj_bias (3E), out_proj.weight (E, E), out_proj.bias (E);
//   q_proj_weight / k_proj_weight / v_proj_weight when kdim or vdim differ from E.
import { checkOptions, optionKeys } from '../../core/options.js';
import { shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { zeros } from '../../ops/creation.js';
import { split } from '../../ops/join.js';
import { flashAttentionPacked } from '../../ops/flash-attention.js';
import { linear } from '../../ops/linalg.js';
import { mean } from '../../ops/reduce.js';
import { permute, reshape, slice } from '../../ops/views.js';
import { noGrad, tidy } from '../../tensor/engine.js';
import { fill_ } from '../../ops/inplace.js';
import type { Tensor } from '../../tensor/tensor.js';
import { xavierUniform } from '../init.js';
import { Linear } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import { cachedLength, type DecodingCache } from './decoding-cache.js';
import { attendWith, attentionKind, softmaxAttention, type AttentionKindDef } from './kinds/index.js';
import type { RotaryEmbedding } from './positional.js';
import { flashAttentionEnabled, type AttentionMasks } from './scaled-dot-product.js';

/**
 * How relevance is computed and normalised (lecture §4 and §5): a registered kind
 * (./kinds/), built in: softmax, relu, additive, linear.
 */
export type AttentionKind = 'softmax' | 'relu' | 'additive' | 'linear' | (string & {});

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  kdim?: number;
  vdim?: number;
  attention?: AttentionKind;
  /** Rotate q and k by position (RoPE) inside each head. */
  rope?: RotaryEmbedding | null;
  generator?: Generator;
}

export interface AttentionCallOptions extends AttentionMasks {
  /** Return the attention weights (default true, like PyTorch's need_weights). */
  needWeights?: boolean;
  /** Average the weights over heads (default true) or return them per head (B, H, L, S). */
  averageAttnWeights?: boolean;
  /** Add a causal mask (a decoder's masked self-attention); with a cache, query i sits after the cached past. */
  isCausal?: boolean;
  /** Truncated attention: query i looks at keys j with |i - j| <= window only (shifted by a cached past like isCausal). */
  window?: number | null;
  /**
   * Decoding step by step: the cache the attention kind makes (a KVCache of earlier keys and
   * values for softmax, relu and additive; linear attention's recurrent LinearAttentionState).
   */
  cache?: DecodingCache | null;
  /** Also return every head's q, k, v, alpha, alphaPrime and b (the lecture's names; see AttentionIntermediates). */
  returnIntermediates?: boolean;
}

/**
 * One call's intermediates per head, for looking at (the visualizer, tests): q (B, H, L, hd) and
 * k, v (B, H, S, hd) after RoPE and any cache; alpha (B, H, L, S) the scores after the masks
 * (-Infinity where blocked); alphaPrime (B, H, L, S) the normalised weights; b (B, H, L, hd) each
 * head's output before W^O. Linear attention forms no alpha: both are null there.
 */
export interface AttentionIntermediates {
  q: Tensor; k: Tensor; v: Tensor;
  alpha: Tensor | null; alphaPrime: Tensor | null;
  b: Tensor;
}

export interface AttentionResult {
  /** (B, L, E) */
  output: Tensor;
  /** (B, L, S) averaged over heads, (B, H, L, S) per head, or null. */
  weights: Tensor | null;
  /** With `returnIntermediates`. */
  intermediates?: AttentionIntermediates;
}

export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly attention: AttentionKind;
  /** The definition of `attention` (how it attends, its cache, the masks it honours). */
  readonly attentionDef: AttentionKindDef;
  readonly dropout: number;
  readonly in_proj_weight: Tensor | null;
  readonly q_proj_weight: Tensor | null;
  readonly k_proj_weight: Tensor | null;
  readonly v_proj_weight: Tensor | null;
  readonly in_proj_bias: Tensor | null;
  readonly out_proj: Linear;
  /** The attention kind's own parameters (additive: additive_w, one w per head). */
  readonly kindParams: Readonly<Record<string, Tensor>>;
  readonly rope: RotaryEmbedding | null;
  private readonly generator: Generator;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkOptions('MultiheadAttention', options, optionKeys<MultiheadAttentionOptions>({ dropout: 1, bias: 1, kdim: 1, vdim: 1, attention: 1, rope: 1, generator: 1 }));
    if (!Number.isInteger(embedDim) || embedDim <= 0) throw new ModuleError('MultiheadAttention', `embedDim must be a positive integer, got ${embedDim}`);
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
      throw new ModuleError('MultiheadAttention', `numHeads (${numHeads}) must divide embedDim (${embedDim})`);
    }
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.attention = options.attention ?? 'softmax';
    this.attentionDef = attentionKind(this.attention, 'MultiheadAttention');
    this.dropout = options.dropout ?? 0;
    this.generator = options.generator ?? defaultGenerator;
    const g = this.generator;
    const E = embedDim;
    const same = this.kdim === E && this.vdim === E;
    this.in_proj_weight = this.param('in_proj_weight', same ? xavierUniform([3 * E, E], g) : null);
    this.q_proj_weight = this.param('q_proj_weight', same ? null : xavierUniform([E, E], g));
    this.k_proj_weight = this.param('k_proj_weight', same ? null : xavierUniform([E, this.kdim], g));
    this.v_proj_weight = this.param('v_proj_weight', same ? null : xavierUniform([E, this.vdim], g));
    const bias = options.bias ?? true;
    this.in_proj_bias = this.param('in_proj_bias', bias ? zeros([3 * E]) : null);
    this.out_proj = this.module('out_proj', new Linear(E, E, { bias, generator: g }));
    if (bias) noGrad(() => fill_(this.out_proj.bias!, 0));
    const own = this.attentionDef.params?.(numHeads, this.headDim, g) ?? {};
    for (const [name, t] of Object.entries(own)) this.param(name, t);
    this.kindParams = own;
    this.rope = options.rope ?? null;
    if (this.rope && this.rope.headDim !== this.headDim) throw new ModuleError('MultiheadAttention', `rope headDim ${this.rope.headDim} != head size ${this.headDim}`);
  }

  /** query (B, L, E), key (B, S, kdim), value (B, S, vdim). */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: AttentionCallOptions = {}): AttentionResult {
    this.checkInputs(query, key, value);
    const { needWeights = true, averageAttnWeights = true, returnIntermediates = false } = options;
    const [B, L] = query.shape as [number, number];
    const H = this.numHeads;
    const hd = this.headDim;
    return tidy(() => {
      const packed = this.packedSelfAttention(query, key, value, options, needWeights || returnIntermediates);
      if (packed) return { output: packed, weights: null };
      const [q, k, v] = this.project(query, key, value); // (B, L|S, E) each
      const heads = (x: Tensor) => permute(reshape(x, [B, x.shape[1]!, H, hd]), [0, 2, 1, 3]); // (B, H, N, hd)
      let qh = heads(q);
      let kh = heads(k);
      let vh = heads(v);
      const past = cachedLength(options.cache);
      if (this.rope) {
        qh = this.rope.apply(qh, past);
        kh = this.rope.apply(kh, past);
      }
      const r = attendWith(this.attentionDef, {
        q: qh, k: kh, v: vh, attnMask: options.attnMask ?? null, keyPaddingMask: options.keyPaddingMask ?? null,
        // causal and window go down as flags, not masks: softmax attention then runs fused
        // (FlashAttention, never the (B, H, L, S) weights) when nothing asks for the weights
        causal: options.isCausal ?? false, window: options.window ?? null, cache: options.cache ?? null,
        needWeights: needWeights || returnIntermediates, returnScores: returnIntermediates,
        dropout: this.dropout, training: this.training, params: this.kindParams, module: 'MultiheadAttention',
      });
      const { b, alphaPrime } = r; // b (B, H, L, hd)
      const merged = reshape(permute(b, [0, 2, 1, 3]), [B, L, this.embedDim]); // concatenate heads, (B, L, E)
      const output = this.out_proj.forward(merged); // mix the heads with W^O
      const weights = !needWeights || !alphaPrime ? null : averageAttnWeights ? mean(alphaPrime, 1) : alphaPrime;
      if (!returnIntermediates) return { output, weights };
      // k and v as attended: with a cache, the past positions too
      return { output, weights, intermediates: { q: qh, k: r.k ?? kh, v: r.v ?? vh, alpha: r.alpha ?? null, alphaPrime, b } };
    });
  }

  /**
   * Self-attention's fast path: softmax attention that nothing asks the weights of runs on the
   * projection's output (B, L, 3E) after one permute to (3, B, H, L, hd), read by the fused kernel
   * where it lies (flashAttentionPacked): one copy of q, k, v instead of one for the heads and
   * another for the kernel each, and one gradient buffer. Null where it does not apply (then the
   * general path below checks the options and reports what is wrong).
   */
  private packedSelfAttention(query: Tensor, key: Tensor, value: Tensor, options: AttentionCallOptions, needWeights: boolean): Tensor | null {
    const [B, L] = query.shape as [number, number];
    const padding = options.keyPaddingMask ?? null;
    const window = options.window ?? null;
    if (!(query === key && key === value) || !this.in_proj_weight || this.rope || options.cache || this.attentionDef !== softmaxAttention || needWeights ||
      options.attnMask || !flashAttentionEnabled() || query.dtype !== 'float32' ||
      (window !== null && !(Number.isInteger(window) && window >= 0)) ||
      (padding && (padding.dtype !== 'int32' || padding.rank !== 2 || padding.shape[0] !== B || padding.shape[1] !== L))) return null;
    const H = this.numHeads;
    const qkv = linear(query, this.in_proj_weight, this.in_proj_bias); // (B, L, 3E)
    const b = flashAttentionPacked(permute(reshape(qkv, [B, L, 3, H, this.headDim]), [2, 0, 3, 1, 4]), {
      causal: options.isCausal ?? false, window, keyPaddingMask: padding, dropout: this.training ? this.dropout : 0,
    }); // (B, H, L, hd)
    return this.out_proj.forward(reshape(permute(b, [0, 2, 1, 3]), [B, L, this.embedDim]));
  }

  /** Additive attention's w (H, hd), or null for the other kinds. */
  get additive_w(): Tensor | null {
    return this.kindParams.additive_w ?? null;
  }

  private project(query: Tensor, key: Tensor, value: Tensor): [Tensor, Tensor, Tensor] {
    const E = this.embedDim;
    const bias = (i: number) => (this.in_proj_bias ? slice(this.in_proj_bias, 0, i * E, (i + 1) * E) : null);
    if (this.in_proj_weight) {
      if (query === key && key === value) {
        // self-attention: one matmul for q, k and v
        return split(linear(query, this.in_proj_weight, this.in_proj_bias), E, -1) as [Tensor, Tensor, Tensor];
      }
      const w = (i: number) => slice(this.in_proj_weight!, 0, i * E, (i + 1) * E);
      return [linear(query, w(0), bias(0)), linear(key, w(1), bias(1)), linear(value, w(2), bias(2))];
    }
    return [linear(query, this.q_proj_weight!, bias(0)), linear(key, this.k_proj_weight!, bias(1)), linear(value, this.v_proj_weight!, bias(2))];
  }

  private checkInputs(query: Tensor, key: Tensor, value: Tensor): void {
    const bad = (what: string, t: Tensor, d: number) => {
      if (t.rank !== 3 || t.shape[2] !== d) throw new ModuleError('MultiheadAttention', `${what} of shape ${shapeStr(t.shape)} must be (B, N, ${d})`);
    };
    bad('query', query, this.embedDim);
    bad('key', key, this.kdim);
    bad('value', value, this.vdim);
    if (key.shape[0] !== query.shape[0] || value.shape[0] !== query.shape[0] || key.shape[1] !== value.shape[1]) {
      throw new ModuleError('MultiheadAttention', `query ${shapeStr(query.shape)}, key ${shapeStr(key.shape)} and value ${shapeStr(value.shape)} do not agree on batch or length`);
    }
  }
}
