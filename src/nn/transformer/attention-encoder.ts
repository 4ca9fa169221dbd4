// The self-attention model body for sequence labeling and classification (lecture §3-4):
// input vectors a^i (word embeddings, audio frames or graph nodes) -> a projection to dModel ->
// positional encoding -> a stack of Transformer encoder layers. It implements SequenceEncoder,
// so it swaps with the fully-connected, CNN and RNN baselines under the same heads.
import { checkOptions, optionKeys } from '../../core/options.js';
import { shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EncodeOptions, SequenceEncoder } from '../encoder.js';
import { LayerNorm, Linear } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import type { AttentionKind } from '../attention/multihead.js';
import { attentionKind } from '../attention/kinds/index.js';
import { LearnedPositionalEncoding, RotaryEmbedding, SinusoidalPositionalEncoding } from '../attention/positional.js';
import { TransformerEncoderLayer, type Activation, type EncoderLayerCall, type LayerIntermediates } from './layers.js';
import { TransformerEncoder } from './stacks.js';

export type PositionKind = 'sinusoidal' | 'learned' | 'rope' | 'none';
export const POSITION_KINDS: readonly PositionKind[] = ['sinusoidal', 'learned', 'rope', 'none'];

export interface AttentionEncoderOptions {
  inDim: number;
  dModel?: number;
  nhead?: number;
  layers?: number;
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  /** Pre-LN (default true: trains without warmup at these sizes). */
  normFirst?: boolean;
  attention?: AttentionKind;
  pos?: PositionKind;
  /** Longest sequence for learned positions (default 512). */
  maxLen?: number;
  /** Truncated self-attention: look at most `window` positions either side. */
  window?: number | null;
  generator?: Generator;
}

export class AttentionEncoder extends Module implements SequenceEncoder {
  readonly inDim: number;
  readonly outDim: number;
  readonly input: Linear | null;
  readonly pos: SinusoidalPositionalEncoding | LearnedPositionalEncoding | null;
  readonly encoder: TransformerEncoder;
  readonly window: number | null;

  constructor(options: AttentionEncoderOptions) {
    super();
    checkOptions('AttentionEncoder', options, optionKeys<AttentionEncoderOptions>({
      inDim: 1, dModel: 1, nhead: 1, layers: 1, dimFeedforward: 1, dropout: 1, activation: 1, normFirst: 1, attention: 1, pos: 1, maxLen: 1, window: 1, generator: 1,
    }));
    const { inDim, dModel = 64, nhead = 4, layers = 2, pos = 'sinusoidal', attention = 'softmax', normFirst = true } = options;
    const g = options.generator ?? defaultGenerator;
    if (!POSITION_KINDS.includes(pos)) throw new ModuleError('AttentionEncoder', `pos must be one of ${POSITION_KINDS.join(', ')}, got "${pos}"`);
    if (options.window != null && !attentionKind(attention, 'AttentionEncoder').honours.window) throw new ModuleError('AttentionEncoder', `${attention} attention cannot be truncated to a window`);
    this.inDim = inDim;
    this.outDim = dModel;
    this.window = options.window ?? null;
    this.input = inDim === dModel ? null : this.module('input', new Linear(inDim, dModel, { generator: g }));
    const maxLen = options.maxLen ?? 512;
    this.pos = pos === 'sinusoidal' ? this.module('pos', new SinusoidalPositionalEncoding(dModel, Math.max(maxLen, 5000)))
      : pos === 'learned' ? this.module('pos', new LearnedPositionalEncoding(maxLen, dModel, { generator: g })) : null;
    if (pos === 'rope' && (dModel / nhead) % 2) throw new ModuleError('AttentionEncoder', `pos 'rope' rotates pairs of values: each head's width dModel/nhead = ${dModel}/${nhead} must be even`);
    const rope = pos === 'rope' ? new RotaryEmbedding(dModel / nhead) : null;
    const layerOptions = {
      dimFeedforward: options.dimFeedforward ?? 4 * dModel, dropout: options.dropout ?? 0.1, activation: options.activation ?? 'gelu',
      normFirst, attention, rope, generator: g,
    };
    this.encoder = this.module('encoder', new TransformerEncoder(() => new TransformerEncoderLayer(dModel, nhead, layerOptions), layers,
      normFirst ? new LayerNorm(dModel) : null));
  }

  /** x (B, T, inDim) -> (B, T, dModel). */
  forward(x: Tensor, options: EncodeOptions = {}): Tensor {
    return tidy(() => {
      const { a, masks } = this.prepare(x, options);
      return this.encoder.forward(a, masks);
    });
  }

  /**
   * The output and every layer's attention weights alpha' per head, (B, H, T, T) each; with
   * `returnIntermediates`, every layer's a, q, k, v, alpha, alphaPrime and b as well.
   */
  inspect(x: Tensor, options: EncodeOptions & { returnIntermediates?: boolean } = {}): { output: Tensor; weights: Tensor[]; layers: LayerIntermediates[] } {
    return tidy(() => {
      const { a, masks } = this.prepare(x, options);
      const weights: Tensor[] = [];
      const layers: LayerIntermediates[] = [];
      let h = a;
      for (const layer of this.encoder.layers) {
        const r = layer.inspect(h, masks, true, options.returnIntermediates ?? false);
        h = r.output;
        if (r.weights) weights.push(r.weights);
        if (r.intermediates) layers.push(r.intermediates);
      }
      return { output: this.encoder.norm ? this.encoder.norm.forward(h) : h, weights, layers };
    });
  }

  private prepare(x: Tensor, options: EncodeOptions): { a: Tensor; masks: EncoderLayerCall } {
    if (x.rank !== 3 || x.shape[2] !== this.inDim) throw new ModuleError('AttentionEncoder', `input of shape ${shapeStr(x.shape)} must be (B, T, ${this.inDim})`);
    let a = this.input ? this.input.forward(x) : x; // (B, T, dModel)
    if (this.pos) a = this.pos.forward(a); // a^i + e^i
    // the window goes down as a flag (not a windowMask): without another mask, and when no weights
    // are asked for, softmax attention then runs fused and never forms the (T, T) scores
    return { a, masks: { srcKeyPaddingMask: options.keyPaddingMask ?? null, srcMask: options.attnMask ?? null, window: this.window } };
  }
}
