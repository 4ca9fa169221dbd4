// Character-aware word vectors (a CNN over each word's characters, max-pooled): an unseen
// word still gets a vector from its spelling ("sawing" looks like "saw"), which is what a
// user expects from a tagger on real text.
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { Embedding } from '../layers.js';
import { Conv1d } from '../conv.js';
import { Module } from '../module.js';
import { relu } from '../../ops/elementwise.js';
import { maxPool } from '../../ops/max-pool.js';
import { permute, reshape } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';

export class CharEmbedding extends Module {
  readonly chars: Embedding;
  readonly conv: Conv1d;

  constructor(readonly numChars: number, readonly outDim: number, options: { charDim?: number; kernel?: number; generator?: Generator } = {}) {
    super();
    const g = options.generator ?? defaultGenerator;
    const charDim = options.charDim ?? 16;
    this.chars = this.module('chars', new Embedding(numChars, charDim, { paddingIdx: 0, generator: g }));
    this.conv = this.module('conv', new Conv1d(charDim, outDim, options.kernel ?? 3, { padding: 'same', generator: g }));
  }

  /** ids (..., C) int32 character ids of words (0 = padding) -> (..., outDim). */
  forward(ids: Tensor): Tensor {
    const C = ids.shape[ids.rank - 1]!;
    const lead = ids.shape.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    return tidy(() => {
      const e = this.chars.forward(reshape(ids, [n, C])); // (n, C, charDim)
      const h = relu(this.conv.forward(permute(e, [0, 2, 1]))); // (n, outDim, C)
      // strongest feature over the word's characters: one kernel, its gradient one scatter to the winner (max_pool1d)
      return reshape(maxPool(h, 2), [...lead, this.outDim]);
    });
  }
}
