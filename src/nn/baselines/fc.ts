// Lecture part: "a fully-connected network sees one position". The same MLP is applied to
// every vector of the sequence on its own, so each output depends on its input position only
// (in "I saw a saw" both "saw" get the same label). It is the baseline self-attention beats by
// looking at the whole sequence.
import { checkOptions, optionKeys } from '../../core/options.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleList } from '../containers.js';
import type { EncodeOptions, SequenceEncoder } from '../encoder.js';
import { Dropout, Linear } from '../layers.js';
import { Module } from '../module.js';
import { activate, checkActivation, checkSequence, paddingMask, positiveInt, zeroPadded, type Activation } from './common.js';

export interface FCEncoderOptions {
  inDim: number;
  /** Width of every layer, and the output size. */
  hidden: number;
  /** Number of Linear -> activation -> Dropout blocks (default 1). */
  layers?: number;
  activation?: Activation;
  /** Dropout probability after each activation (default 0). */
  dropout?: number;
  generator?: Generator;
}

/**
 * Per-position MLP: (B, T, inDim) -> (B, T, hidden). State dict: layers.{i}.weight / .bias.
 * With a keyPaddingMask, outputs at padded positions are zero (real positions never see them).
 */
export class FCEncoder extends Module implements SequenceEncoder {
  readonly inDim: number;
  readonly outDim: number;
  readonly activation: Activation;
  readonly layers: ModuleList<Linear>;
  readonly dropout: Dropout;

  constructor(options: FCEncoderOptions) {
    super();
    checkOptions('FCEncoder', options, optionKeys<FCEncoderOptions>({ inDim: 1, hidden: 1, layers: 1, activation: 1, dropout: 1, generator: 1 }));
    const { inDim, hidden, layers = 1, dropout = 0 } = options;
    positiveInt('FCEncoder', 'inDim', inDim);
    positiveInt('FCEncoder', 'hidden', hidden);
    positiveInt('FCEncoder', 'layers', layers);
    const generator = options.generator ?? defaultGenerator;
    this.inDim = inDim;
    this.outDim = hidden;
    this.activation = checkActivation('FCEncoder', options.activation ?? 'relu');
    this.layers = this.module('layers', new ModuleList(
      Array.from({ length: layers }, (_, i) => new Linear(i === 0 ? inDim : hidden, hidden, { generator }))));
    this.dropout = this.module('dropout', new Dropout(dropout));
  }

  forward(x: Tensor, options: EncodeOptions = {}): Tensor {
    checkSequence('FCEncoder', x, this.inDim);
    return tidy(() => {
      const mask3 = paddingMask('FCEncoder', x, options.keyPaddingMask);
      let h = x;
      for (const linear of this.layers) h = this.dropout.forward(activate(linear.forward(h), this.activation));
      return zeroPadded(h, mask3);
    });
  }
}
