// The Transformer's blocks (lecture §6), with torch.nn.TransformerEncoderLayer /
// TransformerDecoderLayer semantics and names (batch_first=True). Each block is attention and
// a position-wise feed-forward network, each wrapped in a residual connection and layer
// normalisation: after the sum (post-LN, the original) or before the sublayer (normFirst, pre-LN).
import { checkOptions, optionKeys } from '../../core/options.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { gelu, relu } from '../../ops/elementwise.js';
import { add } from '../../ops/elementwise.js';
import { keep, tidy, track } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Dropout, LayerNorm, Linear } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import type { AttentionIntermediates, AttentionKind, AttentionResult } from '../attention/multihead.js';
import { MultiheadAttention } from '../attention/multihead.js';
import type { DecodingCache } from '../attention/decoding-cache.js';
import type { RotaryEmbedding } from '../attention/positional.js';

export type Activation = 'relu' | 'gelu';

export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  normFirst?: boolean;
  bias?: boolean;
  attention?: AttentionKind;
  rope?: RotaryEmbedding | null;
  generator?: Generator;
}

const LAYER_KEYS = optionKeys<TransformerLayerOptions>({
  dimFeedforward: 1, dropout: 1, activation: 1, layerNormEps: 1, normFirst: 1, bias: 1, attention: 1, rope: 1, generator: 1,
});

function resolve(module: string, dModel: number, nhead: number, o: TransformerLayerOptions) {
  if (!Number.isInteger(dModel) || dModel <= 0) throw new ModuleError(module, `dModel must be a positive integer, got ${dModel}`);
  if (!Number.isInteger(nhead) || nhead <= 0 || dModel % nhead) throw new ModuleError(module, `nhead (${nhead}) must divide dModel (${dModel})`);
  if (o.dimFeedforward !== undefined && (!Number.isInteger(o.dimFeedforward) || o.dimFeedforward <= 0)) throw new ModuleError(module, `dimFeedforward must be a positive integer, got ${String(o.dimFeedforward)}`);
  if (o.dropout !== undefined && !(typeof o.dropout === 'number' && o.dropout >= 0 && o.dropout < 1)) throw new ModuleError(module, `dropout must be a number in [0, 1), got ${String(o.dropout)}`);
  if (o.layerNormEps !== undefined && !(typeof o.layerNormEps === 'number' && o.layerNormEps > 0)) throw new ModuleError(module, `layerNormEps must be a positive number, got ${String(o.layerNormEps)}`);
  for (const k of ['normFirst', 'bias'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ModuleError(module, `${k} must be true or false, got ${String(o[k])}`);
  }
  const activation = o.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'gelu') throw new ModuleError(module, `activation must be "relu" or "gelu", got "${activation}"`);
  return {
    ff: o.dimFeedforward ?? 2048, p: o.dropout ?? 0.1, activation, eps: o.layerNormEps ?? 1e-5, normFirst: o.normFirst ?? false,
    bias: o.bias ?? true, g: o.generator ?? defaultGenerator,
    attn: { dropout: o.dropout ?? 0.1, bias: o.bias ?? true, attention: o.attention ?? 'softmax', rope: o.rope ?? null, generator: o.generator ?? defaultGenerator },
  };
}

/** The feed-forward sublayer linear2(dropout(act(linear1(x)))), shared by both layers. */
function feedForward(layer: { linear1: Linear; linear2: Linear; dropout: Dropout; activation: Activation }, x: Tensor): Tensor {
  const h = layer.linear1.forward(x);
  return layer.linear2.forward(layer.dropout.forward(layer.activation === 'gelu' ? gelu(h) : relu(h)));
}

export interface EncoderLayerCall {
  srcMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  isCausal?: boolean;
  /** Truncated self-attention: position i looks at j with |i - j| <= window only. */
  window?: number | null;
}

export class TransformerEncoderLayer extends Module {
  readonly self_attn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  readonly activation: Activation;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    super();
    checkOptions('TransformerEncoderLayer', options, LAYER_KEYS);
    const o = resolve('TransformerEncoderLayer', dModel, nhead, options);
    this.normFirst = o.normFirst;
    this.activation = o.activation;
    this.self_attn = this.module('self_attn', new MultiheadAttention(dModel, nhead, o.attn));
    this.linear1 = this.module('linear1', new Linear(dModel, o.ff, { bias: o.bias, generator: o.g }));
    this.dropout = this.module('dropout', new Dropout(o.p));
    this.linear2 = this.module('linear2', new Linear(o.ff, dModel, { bias: o.bias, generator: o.g }));
    this.norm1 = this.module('norm1', new LayerNorm(dModel, { eps: o.eps, bias: o.bias }));
    this.norm2 = this.module('norm2', new LayerNorm(dModel, { eps: o.eps, bias: o.bias }));
    this.dropout1 = this.module('dropout1', new Dropout(o.p));
    this.dropout2 = this.module('dropout2', new Dropout(o.p));
  }

  /** src (B, T, dModel) -> (B, T, dModel). */
  forward(src: Tensor, options: EncoderLayerCall = {}): Tensor {
    const { output, weights } = this.inspect(src, options, false);
    weights?.dispose();
    return output;
  }

  /**
   * The output and, when asked, the self-attention weights alpha' per head, (B, H, T, T), and
   * every head's intermediates with `a`, the vectors the attention read (after norm1 when normFirst).
   */
  inspect(src: Tensor, options: EncoderLayerCall = {}, needWeights = true, returnIntermediates = false):
    { output: Tensor; weights: Tensor | null; intermediates?: LayerIntermediates } {
    let weights: Tensor | null = null;
    let intermediates: LayerIntermediates | undefined;
    const output = tidy(() => {
      const sa = (x: Tensor) => {
        const r = this.self_attn.forward(x, x, x, {
          attnMask: options.srcMask, keyPaddingMask: options.srcKeyPaddingMask, isCausal: options.isCausal, window: options.window,
          needWeights, averageAttnWeights: false, returnIntermediates,
        });
        weights = r.weights ? keep(r.weights) : null;
        if (r.intermediates) {
          const i = r.intermediates;
          const k = (t: Tensor | null) => (t ? keep(t) : null);
          intermediates = { a: keep(x), q: keep(i.q), k: keep(i.k), v: keep(i.v), alpha: k(i.alpha), alphaPrime: k(i.alphaPrime), b: keep(i.b) };
        }
        return this.dropout1.forward(r.output);
      };
      const ff = (x: Tensor) => this.dropout2.forward(feedForward(this, x));
      if (this.normFirst) {
        const x = add(src, sa(this.norm1.forward(src))); // x + SA(LN(x))
        return add(x, ff(this.norm2.forward(x))); // x + FF(LN(x))
      }
      const x = this.norm1.forward(add(src, sa(src))); // LN(x + SA(x))
      return this.norm2.forward(add(x, ff(x))); // LN(x + FF(x))
    });
    // kept out of the tidy above; hand them to the caller's scope (a tidy there frees them)
    const escaped = [weights as Tensor | null, ...Object.values(intermediates ?? {}) as (Tensor | null)[]];
    for (const t of escaped) if (t) track(t);
    return intermediates ? { output, weights, intermediates } : { output, weights };
  }
}

/** A layer's attention intermediates and `a` (B, T, dModel), the vectors its attention read. */
export interface LayerIntermediates extends AttentionIntermediates { a: Tensor }

export interface DecoderLayerCall {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  tgtIsCausal?: boolean;
  /** Step-by-step decoding: the self-attention's keys/values of earlier target positions. */
  cache?: DecodingCache | null;
  /** Hands each attention's intermediates (self-attention, then cross-attention) over, for looking at them. */
  onAttention?: ((what: 'self' | 'cross', i: LayerIntermediates) => void) | null;
}

export class TransformerDecoderLayer extends Module {
  readonly self_attn: MultiheadAttention;
  readonly multihead_attn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;
  readonly normFirst: boolean;
  readonly activation: Activation;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    super();
    checkOptions('TransformerDecoderLayer', options, LAYER_KEYS);
    const o = resolve('TransformerDecoderLayer', dModel, nhead, options);
    this.normFirst = o.normFirst;
    this.activation = o.activation;
    this.self_attn = this.module('self_attn', new MultiheadAttention(dModel, nhead, o.attn));
    // cross-attention reads the encoder's output; RoPE applies to self-attention only
    this.multihead_attn = this.module('multihead_attn', new MultiheadAttention(dModel, nhead, { ...o.attn, rope: null }));
    this.linear1 = this.module('linear1', new Linear(dModel, o.ff, { bias: o.bias, generator: o.g }));
    this.dropout = this.module('dropout', new Dropout(o.p));
    this.linear2 = this.module('linear2', new Linear(o.ff, dModel, { bias: o.bias, generator: o.g }));
    this.norm1 = this.module('norm1', new LayerNorm(dModel, { eps: o.eps, bias: o.bias }));
    this.norm2 = this.module('norm2', new LayerNorm(dModel, { eps: o.eps, bias: o.bias }));
    this.norm3 = this.module('norm3', new LayerNorm(dModel, { eps: o.eps, bias: o.bias }));
    this.dropout1 = this.module('dropout1', new Dropout(o.p));
    this.dropout2 = this.module('dropout2', new Dropout(o.p));
    this.dropout3 = this.module('dropout3', new Dropout(o.p));
  }

  /** tgt (B, T, dModel), memory (B, S, dModel) -> (B, T, dModel). */
  forward(tgt: Tensor, memory: Tensor, options: DecoderLayerCall = {}): Tensor {
    return tidy(() => {
      const on = options.onAttention;
      const look = (what: 'self' | 'cross', x: Tensor, r: AttentionResult) => {
        if (on && r.intermediates) on(what, { a: x, ...r.intermediates });
        return r.output;
      };
      // masked self-attention on what was produced so far
      const sa = (x: Tensor) => this.dropout1.forward(look('self', x, this.self_attn.forward(x, x, x, {
        attnMask: options.tgtMask, keyPaddingMask: options.tgtKeyPaddingMask, isCausal: options.tgtIsCausal,
        needWeights: false, cache: options.cache, returnIntermediates: !!on,
      })));
      // cross-attention: queries from the decoder, keys and values from the encoder
      const ca = (x: Tensor) => this.dropout2.forward(look('cross', x, this.multihead_attn.forward(x, memory, memory, {
        attnMask: options.memoryMask, keyPaddingMask: options.memoryKeyPaddingMask, needWeights: false, returnIntermediates: !!on,
      })));
      const ff = (x: Tensor) => this.dropout3.forward(feedForward(this, x));
      if (this.normFirst) {
        let x = add(tgt, sa(this.norm1.forward(tgt)));
        x = add(x, ca(this.norm2.forward(x)));
        return add(x, ff(this.norm3.forward(x)));
      }
      let x = this.norm1.forward(add(tgt, sa(tgt)));
      x = this.norm2.forward(add(x, ca(x)));
      return this.norm3.forward(add(x, ff(x)));
    });
  }
}
