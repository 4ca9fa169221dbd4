// The one interface every sequence model body implements, so experiments can swap a
// self-attention stack for a fully-connected, CNN or RNN baseline with the same inputs and heads.
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface EncodeOptions {
  /** (B, T) int32/float, nonzero = padding: that position is not attended to / not looked at. */
  keyPaddingMask?: Tensor | null;
  /**
   * (T, T) or (B, T, T), nonzero = position i may not look at j: a graph's adjacency turned
   * into a mask (graphMask). Only attention encoders can use it; the baselines ignore it (they
   * cannot see edges, which is what a comparison with them shows).
   */
  attnMask?: Tensor | null;
}

/** Maps a batch of vector sequences (B, T, inDim) to (B, T, outDim). */
export interface SequenceEncoder extends Module {
  readonly inDim: number;
  readonly outDim: number;
  forward(x: Tensor, options?: EncodeOptions): Tensor;
}
