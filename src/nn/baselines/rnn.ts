// Lecture part: "an RNN processes positions one after another". A GRU or LSTM stack as a
// SequenceEncoder: every output has seen the positions before it (and, bidirectional, after
// it), but only through a chain of sequential steps, where self-attention links any two
// positions in one step and computes all positions in parallel.
import { checkOptions, optionKeys } from '../../core/options.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EncodeOptions, SequenceEncoder } from '../encoder.js';
import { Module, ModuleError } from '../module.js';
import { checkMask, checkSequence, positiveInt } from './common.js';
import { GRU, LSTM } from './recurrent.js';

export interface RNNEncoderOptions {
  inDim: number;
  /** Hidden size per direction; outDim = hidden * (bidirectional ? 2 : 1). */
  hidden: number;
  /** Stacked recurrent layers (default 1). */
  layers?: number;
  cell?: 'gru' | 'lstm';
  bidirectional?: boolean;
  /** Dropout between stacked layers, in training mode (default 0). */
  dropout?: number;
  generator?: Generator;
}

/**
 * (B, T, inDim) -> (B, T, hidden * dirs). State dict: rnn.weight_ih_l0, ... (PyTorch's names).
 * With a keyPaddingMask (right padding), padded steps keep the previous state in both
 * directions and output zero: the result at real positions equals running each sequence alone,
 * i.e. PyTorch's pack_padded_sequence.
 */
export class RNNEncoder extends Module implements SequenceEncoder {
  readonly inDim: number;
  readonly outDim: number;
  readonly cell: 'gru' | 'lstm';
  readonly rnn: GRU | LSTM;

  constructor(options: RNNEncoderOptions) {
    super();
    checkOptions('RNNEncoder', options, optionKeys<RNNEncoderOptions>({ inDim: 1, hidden: 1, layers: 1, cell: 1, bidirectional: 1, dropout: 1, generator: 1 }));
    const { inDim, hidden, layers = 1, cell = 'gru', bidirectional = false, dropout = 0 } = options;
    positiveInt('RNNEncoder', 'inDim', inDim);
    positiveInt('RNNEncoder', 'hidden', hidden);
    if (cell !== 'gru' && cell !== 'lstm') throw new ModuleError('RNNEncoder', `cell must be 'gru' or 'lstm', got '${cell}'`);
    const rnnOptions = { numLayers: layers, bidirectional, dropout, generator: options.generator ?? defaultGenerator };
    this.inDim = inDim;
    this.outDim = hidden * (bidirectional ? 2 : 1);
    this.cell = cell;
    this.rnn = this.module('rnn', cell === 'gru' ? new GRU(inDim, hidden, rnnOptions) : new LSTM(inDim, hidden, rnnOptions));
  }

  forward(x: Tensor, options: EncodeOptions = {}): Tensor {
    checkSequence('RNNEncoder', x, this.inDim);
    checkMask('RNNEncoder', x, options.keyPaddingMask);
    const o = { keyPaddingMask: options.keyPaddingMask ?? null };
    // the final states are not part of a SequenceEncoder's output
    if (this.rnn instanceof LSTM) {
      const { output, hN, cN } = this.rnn.forward(x, null, o);
      hN.dispose();
      cN.dispose();
      return output;
    }
    const { output, hN } = this.rnn.forward(x, null, o);
    hN.dispose();
    return output;
  }
}
