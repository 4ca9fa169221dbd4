// Lecture §3: "a window of neighbours helps, but a fixed window can't cover every sequence".
// A fully-connected network over a window of `window` consecutive vectors centred on each
// position: the window's vectors are concatenated (zeros beyond the ends and at padding) and
// fed to the same per-position MLP as FCEncoder. window = 1 is FCEncoder.
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { concat, pad } from '../../ops/join.js';
import { slice } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EncodeOptions, SequenceEncoder } from '../encoder.js';
import { Module, ModuleError } from '../module.js';
import { checkSequence, paddingMask, positiveInt, zeroPadded, type Activation } from './common.js';
import { FCEncoder } from './fc.js';

export interface WindowFCEncoderOptions {
  inDim: number;
  hidden: number;
  /** Positions seen by each output, centred: an odd number (1, 3, 5, 9, ...). */
  window: number;
  layers?: number;
  activation?: Activation;
  dropout?: number;
  generator?: Generator;
}

/** (B, T, inDim) -> (B, T, hidden). State dict: mlp.layers.{i}.weight / .bias (layer 0 reads window·inDim). */
export class WindowFCEncoder extends Module implements SequenceEncoder {
  readonly inDim: number;
  readonly outDim: number;
  readonly window: number;
  readonly mlp: FCEncoder;

  constructor(options: WindowFCEncoderOptions) {
    super();
    const { inDim, hidden, window } = options;
    positiveInt('WindowFCEncoder', 'inDim', inDim);
    positiveInt('WindowFCEncoder', 'window', window);
    if (window % 2 !== 1) throw new ModuleError('WindowFCEncoder', `window must be odd (centred on the position), got ${window}`);
    this.inDim = inDim;
    this.outDim = hidden;
    this.window = window;
    this.mlp = this.module('mlp', new FCEncoder({
      inDim: window * inDim, hidden, layers: options.layers, activation: options.activation, dropout: options.dropout, generator: options.generator ?? defaultGenerator,
    }));
  }

  forward(x: Tensor, options: EncodeOptions = {}): Tensor {
    checkSequence('WindowFCEncoder', x, this.inDim);
    return tidy(() => {
      const mask3 = paddingMask('WindowFCEncoder', x, options.keyPaddingMask);
      const T = x.shape[1]!;
      const h = (this.window - 1) / 2;
      const padded = pad(zeroPadded(x, mask3), [0, 0, h, h]); // (B, T + 2h, inDim): zeros beyond both ends
      // offset j = -h..h: the neighbour j steps away, side by side on the last axis
      const windowed = concat(Array.from({ length: this.window }, (_, j) => slice(padded, 1, j, j + T)), -1); // (B, T, window·inDim)
      return this.mlp.forward(windowed, { keyPaddingMask: options.keyPaddingMask });
    });
  }
}
