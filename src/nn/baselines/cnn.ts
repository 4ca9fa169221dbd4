// Lecture part: "a CNN is a self-attention with a fixed, small receptive field". Each output
// looks at a window of kernelSize neighbours (wider with dilation and with every extra layer)
// with weights fixed by relative position, where self-attention looks at the whole sequence
// with weights computed from the data. Receptive field: 1 + layers * (kernelSize - 1) * dilation.
import { checkOptions, optionKeys } from '../../core/options.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { add } from '../../ops/elementwise.js';
import { transpose } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleList } from '../containers.js';
import { Conv1d } from '../conv.js';
import type { EncodeOptions, SequenceEncoder } from '../encoder.js';
import { Dropout } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import { activate, checkActivation, checkSequence, paddingMask, positiveInt, zeroPadded, type Activation } from './common.js';

export interface CNNEncoderOptions {
  inDim: number;
  /** Channels of every layer, and the output size. */
  hidden: number;
  /** Number of Conv1d -> activation -> Dropout blocks (default 2). */
  layers?: number;
  /** Odd window size, so 'same' padding is symmetric (default 3). */
  kernelSize?: number;
  /** One dilation for every layer, or one per layer (e.g. [1, 2, 4]); default 1. */
  dilation?: number | number[];
  activation?: Activation;
  dropout?: number;
  /** Add each block's input to its output when the sizes match (default true). */
  residual?: boolean;
  generator?: Generator;
}

/**
 * A stack of 'same'-padded Conv1d layers over time: (B, T, inDim) -> (B, T, hidden).
 * State dict: convs.{i}.weight [hidden, in, k] / convs.{i}.bias. With a keyPaddingMask, padded
 * positions are zeroed before every convolution (so they never leak into real positions, and
 * read like the zero padding past the ends) and in the output.
 */
export class CNNEncoder extends Module implements SequenceEncoder {
  readonly inDim: number;
  readonly outDim: number;
  readonly kernelSize: number;
  readonly dilations: number[];
  readonly activation: Activation;
  readonly residual: boolean;
  readonly convs: ModuleList<Conv1d>;
  readonly dropout: Dropout;

  constructor(options: CNNEncoderOptions) {
    super();
    checkOptions('CNNEncoder', options, optionKeys<CNNEncoderOptions>({ inDim: 1, hidden: 1, layers: 1, kernelSize: 1, dilation: 1, activation: 1, dropout: 1, residual: 1, generator: 1 }));
    const { inDim, hidden, layers = 2, kernelSize = 3, dilation = 1, dropout = 0 } = options;
    positiveInt('CNNEncoder', 'inDim', inDim);
    positiveInt('CNNEncoder', 'hidden', hidden);
    positiveInt('CNNEncoder', 'layers', layers);
    if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
      throw new ModuleError('CNNEncoder', `kernelSize must be a positive odd integer, got ${kernelSize}`);
    }
    const dilations = typeof dilation === 'number' ? new Array<number>(layers).fill(dilation) : [...dilation];
    if (dilations.length !== layers) {
      throw new ModuleError('CNNEncoder', `dilation has ${dilations.length} entries [${dilations.join(', ')}] for ${layers} layers`);
    }
    dilations.forEach((d) => positiveInt('CNNEncoder', 'dilation', d));
    const generator = options.generator ?? defaultGenerator;
    this.inDim = inDim;
    this.outDim = hidden;
    this.kernelSize = kernelSize;
    this.dilations = dilations;
    this.activation = checkActivation('CNNEncoder', options.activation ?? 'relu');
    this.residual = options.residual ?? true;
    this.convs = this.module('convs', new ModuleList(dilations.map((d, i) =>
      new Conv1d(i === 0 ? inDim : hidden, hidden, kernelSize, { padding: 'same', dilation: d, generator }))));
    this.dropout = this.module('dropout', new Dropout(dropout));
  }

  /** How many input positions one output position can see. */
  get receptiveField(): number {
    return 1 + this.dilations.reduce((n, d) => n + (this.kernelSize - 1) * d, 0);
  }

  forward(x: Tensor, options: EncodeOptions = {}): Tensor {
    checkSequence('CNNEncoder', x, this.inDim);
    return tidy(() => {
      const mask3 = paddingMask('CNNEncoder', x, options.keyPaddingMask);
      let h = x;
      for (const conv of this.convs) {
        const input = zeroPadded(h, mask3);
        // (B, T, D) -> (B, D, T): channels first, time last, as conv1d wants; then back
        const y = this.dropout.forward(activate(transpose(conv.forward(transpose(input, 1, 2)), 1, 2), this.activation));
        h = this.residual && conv.inChannels === conv.outChannels ? add(y, input) : y;
      }
      return zeroPadded(h, mask3);
    });
  }
}
