// The encoder–decoder Transformer behind the `seq2seq` task (lecture §6): source tokens ->
// embedding · sqrt(dModel) + position -> encoder; target tokens so far -> embedding · sqrt(dModel)
// + position -> decoder (masked self-attention, then cross-attention to the encoder's output)
// -> a linear layer to target-vocabulary logits. The decoder, not the input, decides when the
// output ends: it emits <eos> (lecture §2, "the model decides the output length").
//
// Source and target have their own vocabularies and embedding tables (a translation pair
// rarely shares one); as in the paper (and fairseq) the tables start at N(0, 1/dModel) so that
// after the sqrt(dModel) scaling a token vector has unit-size entries, like the sinusoids.
// Positions: sinusoidal (default), learned (one table shared by both sides), rope (rotates q
// and k inside every self-attention; cross-attention gets none), or none.
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { QkvError, shapeStr } from '../../core/errors.js';
import type { DecodingCache } from '../attention/decoding-cache.js';
import { attentionKind } from '../attention/kinds/index.js';
import type { AttentionKind } from '../attention/multihead.js';
import { LearnedPositionalEncoding, RotaryEmbedding, SinusoidalPositionalEncoding } from '../attention/positional.js';
import { POSITION_KINDS, type PositionKind } from '../transformer/attention-encoder.js';
import { Transformer, type DecoderRecorder } from '../transformer/stacks.js';
import type { LayerIntermediates } from '../transformer/layers.js';
import { Dropout, Embedding, Linear } from '../layers.js';
import { Module } from '../module.js';
import { div, mul } from '../../ops/elementwise.js';
import { assign } from '../../ops/inplace.js';
import { noGrad, tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';

/** The model's hyperparameters (saved in config.json). */
export interface Seq2SeqModelConfig {
  dModel: number;
  heads: number;
  /** Encoder layers and decoder layers (each). */
  layers: number;
  /** Width of the feed-forward sublayer (seq2seqDriver.create: 2 x dModel unless given). */
  ff: number;
  dropout: number;
  attention: AttentionKind;
  pos: PositionKind;
  /** Pre-LN (true, the default: trains without warmup at these sizes) or the paper's post-LN. */
  normFirst: boolean;
  /** Longest source or target sequence (positions 0..maxLen-1). */
  maxLen: number;
}

export const DEFAULT_SEQ2SEQ_MODEL: Seq2SeqModelConfig = {
  dModel: 64, heads: 4, layers: 2, ff: 128, dropout: 0, attention: 'softmax', pos: 'sinusoidal', normFirst: true, maxLen: 512,
};

/** Options of a decoder call: key padding of the target (training) or per-layer caches (decoding). */
export interface DecodeCall {
  /** (B, S) int32, 1 = padding of the source. */
  srcPad: Tensor;
  /** (B, T) int32, 1 = padding of the target (training only). */
  tgtPad?: Tensor | null;
  /** One cache per decoder layer; the T new positions are appended to them. */
  caches?: DecodingCache[] | null;
  /** Position of the first of the T target tokens (the number already decoded). */
  offset?: number;
  /** Sees every decoder layer's self-attention and cross-attention intermediates. */
  onAttention?: DecoderRecorder | null;
}

export class Seq2SeqModel extends Module {
  readonly src_embed: Embedding;
  readonly tgt_embed: Embedding;
  readonly pos: SinusoidalPositionalEncoding | LearnedPositionalEncoding | null;
  readonly drop: Dropout;
  readonly transformer: Transformer;
  readonly output: Linear;
  private readonly scale: number;

  constructor(readonly srcVocab: number, readonly tgtVocab: number, readonly config: Seq2SeqModelConfig, generator: Generator = defaultGenerator) {
    super();
    const c = config;
    const g = generator;
    attentionKind(c.attention, 'seq2seq');
    if (!POSITION_KINDS.includes(c.pos)) throw new QkvError(`seq2seq: pos must be one of ${POSITION_KINDS.join(', ')}, got "${c.pos}"`);
    if (!Number.isInteger(c.dModel) || c.dModel < 2 || !Number.isInteger(c.heads) || c.heads < 1 || c.dModel % c.heads) {
      throw new QkvError(`seq2seq: heads (${c.heads}) must divide dModel (${c.dModel})`);
    }
    if (c.pos === 'rope' && (c.dModel / c.heads) % 2) throw new QkvError(`seq2seq: rope needs an even head size, got dModel/heads = ${c.dModel / c.heads}`);
    const d = c.dModel;
    this.scale = Math.sqrt(d);
    const table = (n: number) => {
      const e = new Embedding(n, d, { paddingIdx: 0, generator: g });
      noGrad(() => tidy(() => assign(e.weight, div(e.weight, this.scale)))); // N(0, 1/d)
      return e;
    };
    this.src_embed = this.module('src_embed', table(srcVocab));
    this.tgt_embed = this.module('tgt_embed', table(tgtVocab));
    this.pos = c.pos === 'sinusoidal' ? this.module('pos', new SinusoidalPositionalEncoding(d, c.maxLen))
      : c.pos === 'learned' ? this.module('pos', new LearnedPositionalEncoding(c.maxLen, d, { generator: g })) : null;
    this.drop = this.module('drop', new Dropout(c.dropout));
    this.transformer = this.module('transformer', new Transformer(d, c.heads, {
      numEncoderLayers: c.layers, numDecoderLayers: c.layers, dimFeedforward: c.ff, dropout: c.dropout, activation: 'relu',
      normFirst: c.normFirst, attention: c.attention, rope: c.pos === 'rope' ? new RotaryEmbedding(d / c.heads, 10000, c.maxLen) : null, generator: g,
    }));
    this.output = this.module('output', new Linear(d, tgtVocab, { generator: g }));
  }

  /** Longest sequence the positions allow. */
  get maxLen(): number {
    return this.config.maxLen;
  }

  private embed(table: Embedding, ids: Tensor, offset: number): Tensor {
    if (ids.rank !== 2) throw new QkvError(`seq2seq: token ids of shape ${shapeStr(ids.shape)} must be (B, T)`);
    if (offset + ids.shape[1]! > this.maxLen) throw new QkvError(`seq2seq: positions up to ${offset + ids.shape[1]!} exceed the model's maxLen ${this.maxLen}`);
    let x = mul(table.forward(ids), this.scale);
    if (this.pos) x = this.pos.forward(x, offset);
    return this.drop.forward(x);
  }

  /** src (B, S) int32 ids, srcPad (B, S) 1 = padding -> memory (B, S, dModel); `onAttention` sees every encoder layer's self-attention. */
  encode(src: Tensor, srcPad: Tensor, onAttention?: (layer: number, i: LayerIntermediates) => void): Tensor {
    return tidy(() => this.transformer.encoder.forward(this.embed(this.src_embed, src, 0), { srcKeyPaddingMask: srcPad, onAttention }));
  }

  /**
   * tgt (B, T) int32 ids at positions offset..offset+T-1 -> logits (B, T, tgtVocab). Without
   * caches the T positions see each other causally; with caches they also see every position
   * already in them (and are appended to them).
   */
  decode(tgt: Tensor, memory: Tensor, o: DecodeCall): Tensor {
    return tidy(() => {
      const h = this.transformer.decoder.forward(this.embed(this.tgt_embed, tgt, o.offset ?? 0), memory, {
        tgtIsCausal: true, tgtKeyPaddingMask: o.caches ? null : o.tgtPad ?? null, memoryKeyPaddingMask: o.srcPad,
        caches: o.caches ?? undefined, onAttention: o.onAttention,
      });
      return this.output.forward(h);
    });
  }

  /** Teacher forcing: logits (B, T, tgtVocab) for the decoder inputs tgtIn given the source. */
  forward(src: Tensor, srcPad: Tensor, tgtIn: Tensor, tgtPad: Tensor | null = null): Tensor {
    return tidy(() => this.decode(tgtIn, this.encode(src, srcPad), { srcPad, tgtPad }));
  }

  /** One empty cache per decoder layer for `batch` sequences, the one the attention kind keeps. */
  makeCaches(batch: number): DecodingCache[] {
    const hd = this.config.dModel / this.config.heads;
    const kind = attentionKind(this.config.attention, 'seq2seq');
    return this.transformer.decoder.layers.items.map(() => kind.makeCache(batch, this.config.heads, hd, hd));
  }
}
