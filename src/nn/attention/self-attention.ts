// Self-attention step by step, with the lecture's names (§4). Inputs a^1..a^N; for each i:
//   q^i = W^q a^i, k^i = W^k a^i, v^i = W^v a^i
//   alpha_{i,j} = q^i · k^j / sqrt(d)           (dot-product relevance)
//              or w · tanh(q^i + k^j)           (additive relevance)
//   alpha'_{i,j} = softmax_j(alpha_{i,j})        (or ReLU, the lecture's alternative)
//   b^i = Σ_j alpha'_{i,j} v^j
// inspect() returns every one of these tensors, so a student can look at them.
import { checkOptions, optionKeys } from '../../core/options.js';
import { shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { add, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { squeeze, transpose, unsqueeze } from '../../ops/views.js';
import { relu } from '../../ops/elementwise.js';
import { softmax } from '../../ops/softmax.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EncodeOptions } from '../encoder.js';
import { uniform } from '../init.js';
import { Module, ModuleError } from '../module.js';
import { applyMasks, type AttentionMasks, type Normalizer } from './scaled-dot-product.js';

export type Relevance = 'dot' | 'additive';

export interface SelfAttentionOptions {
  /** Size of q and k (default: the input size). */
  dk?: number;
  /** Size of v and of the output b (default: the input size). */
  dv?: number;
  relevance?: Relevance;
  normalizer?: Normalizer;
  /** Divide dot-product scores by sqrt(dk) (the Transformer's choice; default true). */
  scaled?: boolean;
  generator?: Generator;
}

/** Every intermediate of one self-attention pass, batch-first: (B, N, ·) and (B, N, N). */
export interface SelfAttentionTrace {
  q: Tensor; k: Tensor; v: Tensor;
  alpha: Tensor; alphaPrime: Tensor;
  b: Tensor;
}

export class SelfAttention extends Module {
  readonly Wq: Tensor;
  readonly Wk: Tensor;
  readonly Wv: Tensor;
  /** Additive relevance only: alpha_{i,j} = w · tanh(q^i + k^j). */
  readonly w: Tensor | null;
  readonly dk: number;
  readonly dv: number;
  readonly relevance: Relevance;
  readonly normalizer: Normalizer;
  readonly scaled: boolean;

  constructor(readonly inDim: number, options: SelfAttentionOptions = {}) {
    super();
    checkOptions('SelfAttention', options, optionKeys<SelfAttentionOptions>({ dk: 1, dv: 1, relevance: 1, normalizer: 1, scaled: 1, generator: 1 }));
    this.dk = options.dk ?? inDim;
    this.dv = options.dv ?? inDim;
    for (const [n, v] of [['inDim', inDim], ['dk', this.dk], ['dv', this.dv]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ModuleError('SelfAttention', `${n} must be a positive integer, got ${v}`);
    }
    this.relevance = options.relevance ?? 'dot';
    this.normalizer = options.normalizer ?? 'softmax';
    if (!['dot', 'additive'].includes(this.relevance)) throw new ModuleError('SelfAttention', `relevance must be "dot" or "additive", got "${this.relevance}"`);
    if (!['softmax', 'relu'].includes(this.normalizer)) throw new ModuleError('SelfAttention', `normalizer must be "softmax" or "relu", got "${this.normalizer}"`);
    this.scaled = options.scaled ?? true;
    const g = options.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt(inDim);
    // stored as (out, in), like a Linear weight: q = a W^qᵀ for row vectors a
    this.Wq = this.param('Wq', uniform([this.dk, inDim], bound, g));
    this.Wk = this.param('Wk', uniform([this.dk, inDim], bound, g));
    this.Wv = this.param('Wv', uniform([this.dv, inDim], bound, g));
    this.w = this.param('w', this.relevance === 'additive' ? uniform([this.dk], 1 / Math.sqrt(this.dk), g) : null);
  }

  get outDim(): number {
    return this.dv;
  }

  /** a (B, N, inDim) or (N, inDim) -> b (same leading shape, dv). */
  forward(a: Tensor, options: EncodeOptions & AttentionMasks = {}): Tensor {
    const trace = this.inspect(a, options);
    for (const t of [trace.q, trace.k, trace.v, trace.alpha, trace.alphaPrime]) t.dispose();
    return trace.b;
  }

  /** The whole computation, every intermediate returned (b, q, k, v, alpha, alphaPrime). */
  inspect(a: Tensor, options: AttentionMasks = {}): SelfAttentionTrace {
    if ((a.rank !== 2 && a.rank !== 3) || a.shape[a.rank - 1] !== this.inDim) {
      throw new ModuleError('SelfAttention', `input of shape ${shapeStr(a.shape)} must be (B, N, ${this.inDim}) or (N, ${this.inDim})`);
    }
    const unbatched = a.rank === 2;
    return tidy(() => {
      const a3 = unbatched ? unsqueeze(a, 0) : a; // (B, N, inDim)
      const [B, N] = a3.shape as [number, number];
      const q = matmul(a3, transpose(this.Wq)); // q^i = W^q a^i, (B, N, dk)
      const k = matmul(a3, transpose(this.Wk)); // k^i = W^k a^i, (B, N, dk)
      const v = matmul(a3, transpose(this.Wv)); // v^i = W^v a^i, (B, N, dv)
      let alpha: Tensor; // (B, N, N): alpha[b, i, j] = relevance of a^j to a^i
      if (this.relevance === 'dot') {
        alpha = matmul(q, transpose(k));
        if (this.scaled) alpha = alpha.mul(1 / Math.sqrt(this.dk));
      } else {
        const sum = tanh(add(unsqueeze(q, 2), unsqueeze(k, 1))); // tanh(q^i + k^j), (B, N, N, dk)
        alpha = matmul(sum, this.w!); // w · tanh(...), (B, N, N)
      }
      const masked = squeeze(applyMasks(unsqueeze(alpha, 1), options, [B, 1, N, N], 'SelfAttention'), 1);
      const alphaPrime = this.normalizer === 'softmax' ? softmax(masked, -1) : relu(masked);
      const b = matmul(alphaPrime, v); // b^i = Σ_j alpha'_{i,j} v^j, (B, N, dv)
      const out = (t: Tensor) => (unbatched ? squeeze(t, 0) : t);
      return { q: out(q), k: out(k), v: out(v), alpha: out(alpha), alphaPrime: out(alphaPrime), b: out(b) };
    });
  }
}
