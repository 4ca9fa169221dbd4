// The models behind `tag` and `classify`: an input layer (word + character embeddings for
// tokens, or real-valued frames / graph node features), a swappable SequenceEncoder body
// (self-attention, or the lecture's FC / CNN / RNN baselines), and a head: one label per
// position (sequence labeling) or one per sequence (mean over the real positions).
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { QkvError } from '../../core/errors.js';
import type { SequenceEncoder } from '../encoder.js';
import { Embedding, Linear } from '../layers.js';
import { Module } from '../module.js';
import { CNNEncoder, FCEncoder, RNNEncoder, WindowFCEncoder } from '../baselines/index.js';
import { AttentionEncoder, type PositionKind } from '../transformer/attention-encoder.js';
import type { AttentionKind } from '../attention/multihead.js';
import { add, div, mul, sub } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { embedding } from '../../ops/embedding.js';
import { cast, contiguous, unsqueeze } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { CharEmbedding } from './char-embedding.js';
import { PatchEncoder } from '../vision/patch-encoder.js';
import { ConvImageEncoder } from '../vision/conv-encoder.js';

export type ModelKind = 'fc' | 'window-fc' | 'cnn' | 'rnn' | 'transformer';
export const MODEL_KINDS: readonly ModelKind[] = ['fc', 'window-fc', 'cnn', 'rnn', 'transformer'];

/** The body's hyperparameters (saved in config.json). */
export interface ModelConfig {
  kind: ModelKind;
  dModel: number;
  layers: number;
  heads: number;
  dropout: number;
  attention: AttentionKind;
  pos: PositionKind;
  /** Truncated self-attention window (null: whole sequence). */
  window: number | null;
  /** CNN kernel size; window-fc: the window (odd). */
  kernel: number;
  /** RNN cell. */
  cell: 'gru' | 'lstm';
  /** Image inputs, transformer: the side of the square patches (default 4). */
  patch?: number;
}

export const DEFAULT_MODEL: ModelConfig = {
  kind: 'transformer', dModel: 64, layers: 2, heads: 4, dropout: 0.1, attention: 'softmax', pos: 'rope', window: null, kernel: 3, cell: 'lstm',
};

/** Words (with optional character CNN) or real-valued vectors per position. */
export type InputConfig =
  | { kind: 'tokens'; vocabSize: number; charVocabSize: number }
  | { kind: 'frames'; frameDim: number }
  | { kind: 'image'; channels: number; height: number; width: number };

/** One padded batch of inputs. keyPaddingMask: (B, T) int32, 1 = padding. */
export interface InputBatch {
  ids?: Tensor; // (B, T) int32
  chars?: Tensor; // (U, C) int32: the spelling of each distinct word in the batch
  wordIndex?: Tensor; // (B, T) int32: which of the U words sits at each position
  frames?: Tensor; // (B, T, frameDim)
  images?: Tensor; // (B, C, H, W)
  keyPaddingMask: Tensor;
  /** (B, T, T) graph adjacency as a mask (1 = no edge). */
  attnMask?: Tensor | null;
}

export function buildEncoder(inDim: number, c: ModelConfig, g: Generator): SequenceEncoder {
  switch (c.kind) {
    case 'fc': return new FCEncoder({ inDim, hidden: c.dModel, layers: c.layers, dropout: c.dropout, generator: g });
    case 'window-fc': return new WindowFCEncoder({ inDim, hidden: c.dModel, window: c.kernel, layers: c.layers, dropout: c.dropout, generator: g });
    case 'cnn': return new CNNEncoder({ inDim, hidden: c.dModel, layers: c.layers, kernelSize: c.kernel, dropout: c.dropout, generator: g });
    case 'rnn': return new RNNEncoder({ inDim, hidden: c.dModel / 2, layers: Math.min(c.layers, 2), cell: c.cell, bidirectional: true, dropout: c.dropout, generator: g });
    case 'transformer': return new AttentionEncoder({
      inDim, dModel: c.dModel, nhead: c.heads, layers: c.layers, dropout: c.dropout, attention: c.attention, pos: c.pos, window: c.window, generator: g,
    });
    default: throw new QkvError(`unknown model "${String(c.kind)}" (choose from ${MODEL_KINDS.join(', ')})`);
  }
}

/** Turns a batch into vectors a^1..a^T, (B, T, inDim). */
export class InputLayer extends Module {
  readonly words: Embedding | null;
  readonly chars: CharEmbedding | null;
  readonly dim: number;

  constructor(readonly input: InputConfig, dModel: number, g: Generator) {
    super();
    if (input.kind === 'tokens') {
      this.words = this.module('words', new Embedding(input.vocabSize, dModel, { paddingIdx: 0, generator: g }));
      this.chars = input.charVocabSize > 0 ? this.module('chars', new CharEmbedding(input.charVocabSize, dModel, { generator: g })) : null;
      this.dim = dModel;
    } else if (input.kind === 'frames') {
      this.words = this.chars = null;
      this.dim = input.frameDim;
    } else {
      throw new QkvError('images are classified (qkv train classify), not read as a sequence of labelled positions');
    }
  }

  forward(b: InputBatch): Tensor {
    if (this.input.kind === 'frames') {
      if (!b.frames) throw new QkvError('this model reads real-valued frames, but the batch has tokens');
      return contiguous(b.frames); // a view of the frames (no copy) when they are contiguous
    }
    if (!b.ids) throw new QkvError('this model reads tokens, but the batch has frames');
    return tidy(() => {
      const w = this.words!.forward(b.ids!);
      if (!this.chars || !b.chars || !b.wordIndex) return w;
      const spelled = this.chars.forward(b.chars); // (U, d): one vector per distinct word
      return add(w, embedding(b.wordIndex, spelled)); // (B, T, d)
    });
  }
}

abstract class SequenceModel extends Module {
  readonly embed: InputLayer; // a^i: word (+ spelling) vectors, or frames
  readonly encoder: SequenceEncoder;
  readonly head: Linear;

  constructor(input: InputConfig, model: ModelConfig, numLabels: number, generator: Generator = defaultGenerator) {
    super();
    this.embed = this.module('embed', new InputLayer(input, model.dModel, generator));
    this.encoder = this.module('encoder', buildEncoder(this.embed.dim, model, generator));
    this.head = this.module('head', new Linear(this.encoder.outDim, numLabels, { generator }));
  }

  protected encode(b: InputBatch): Tensor {
    return this.encoder.forward(this.embed.forward(b), { keyPaddingMask: b.keyPaddingMask, attnMask: b.attnMask ?? null }); // (B, T, H)
  }
}

/** Sequence labeling: logits (B, T, labels). */
export class SequenceTagger extends SequenceModel {
  forward(b: InputBatch): Tensor {
    return tidy(() => this.head.forward(this.encode(b)));
  }
}

/** Sequence classification: mean of the real positions' vectors -> logits (B, labels). */
export class SequenceClassifier extends SequenceModel {
  forward(b: InputBatch): Tensor {
    return tidy(() => {
      const h = this.encode(b); // (B, T, H)
      const keep = unsqueeze(sub(1, cast(b.keyPaddingMask, 'float32')), -1); // (B, T, 1): 1 at real positions
      const pooled = div(sum(mul(h, keep), 1), sum(keep, 1)); // (B, H)
      return this.head.forward(pooled);
    });
  }
}

/**
 * Image classification: a ViT-style patch encoder (`transformer`: p×p patches, 2-D positions,
 * class token, self-attention) or the CNN baseline (`cnn`: 3×3 convolutions and pooling),
 * then a linear head: logits (B, labels).
 */
export class ImageClassifier extends Module {
  readonly encoder: PatchEncoder | ConvImageEncoder;
  readonly head: Linear;

  constructor(input: Extract<InputConfig, { kind: 'image' }>, model: ModelConfig, numLabels: number, generator: Generator = defaultGenerator) {
    super();
    const shape = { channels: input.channels, height: input.height, width: input.width };
    if (model.kind === 'transformer') {
      this.encoder = this.module('encoder', new PatchEncoder({
        ...shape, patch: model.patch ?? 4, dModel: model.dModel, nhead: model.heads, layers: model.layers, dropout: model.dropout, attention: model.attention, generator,
      }));
    } else if (model.kind === 'cnn') {
      this.encoder = this.module('encoder', new ConvImageEncoder({ ...shape, hidden: model.dModel, layers: model.layers, generator }));
    } else {
      throw new QkvError(`images take --model transformer (patches + self-attention) or cnn, not ${model.kind}`);
    }
    this.head = this.module('head', new Linear(this.encoder.outDim, numLabels, { generator }));
  }

  forward(b: InputBatch): Tensor {
    if (!b.images) throw new QkvError('this model reads images, but the batch has none');
    return tidy(() => this.head.forward(this.encoder.forward(b.images!)));
  }
}
