// WhisperForConditionalGeneration with Hugging Face's names (the lecture's sequence-to-sequence
// example: speech in, text out): model.encoder.{conv1, conv2, embed_positions, layers.{i}.
// {self_attn.{q,k,v,out}_proj, self_attn_layer_norm, fc1, fc2, final_layer_norm}, layer_norm},
// model.decoder.{embed_tokens, embed_positions, layers.{i}.{self_attn, self_attn_layer_norm,
// encoder_attn, encoder_attn_layer_norm, fc1, fc2, final_layer_norm}, layer_norm}, proj_out
// (tied to embed_tokens). A conv stem (two Conv1d + GELU, the second halving the frames), fixed
// sinusoidal positions stored as a weight in the encoder, learned ones in the decoder, pre-LN
// blocks, k_proj without bias; causal self-attention on a KVCache and cross-attention in the decoder.
import { shapeStr } from '../../../core/errors.js';
import { defaultGenerator, type Generator } from '../../../core/rng.js';
import { zeros } from '../../../ops/creation.js';
import { conv1d } from '../../../ops/conv.js';
import { add, gelu } from '../../../ops/elementwise.js';
import { crossEntropy } from '../../../ops/loss.js';
import { permute, reshape, slice } from '../../../ops/views.js';
import { tidy } from '../../../tensor/engine.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { ModuleList } from '../../containers.js';
import { normal } from '../../init.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../../layers.js';
import { Module, ModuleError } from '../../module.js';
import { cachedLength, type DecodingCache } from '../../attention/decoding-cache.js';
import { attendWith, attentionKind } from '../../attention/kinds/index.js';
import { ConfigReader, type Json } from './config.js';
import { act } from './gpt2.js';
import { Dense, dropped } from './layers.js';

export interface WhisperConfig {
  vocabSize: number;
  numMelBins: number;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderAttentionHeads: number;
  decoderAttentionHeads: number;
  encoderFfnDim: number;
  decoderFfnDim: number;
  maxSourcePositions: number;
  maxTargetPositions: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  dropout: number;
  attentionDropout: number;
  activationDropout: number;
  decoderStartTokenId: number;
  eosTokenId: number | null;
  padTokenId: number;
}

export function whisperConfigFromJson(json: Json, file = 'config.json'): WhisperConfig {
  const r = new ConfigReader(json, file);
  r.only('scale_embedding', false);
  r.only('use_weighted_layer_sum', false);
  const c: WhisperConfig = {
    vocabSize: r.int('vocab_size', 51865), numMelBins: r.int('num_mel_bins', 80), dModel: r.int('d_model', 384),
    encoderLayers: r.int('encoder_layers', 4), decoderLayers: r.int('decoder_layers', 4),
    encoderAttentionHeads: r.int('encoder_attention_heads', 6), decoderAttentionHeads: r.int('decoder_attention_heads', 6),
    encoderFfnDim: r.int('encoder_ffn_dim', 1536), decoderFfnDim: r.int('decoder_ffn_dim', 1536),
    maxSourcePositions: r.int('max_source_positions', 1500), maxTargetPositions: r.int('max_target_positions', 448),
    activation: r.activation('activation_function', 'gelu'), dropout: r.num('dropout', 0), attentionDropout: r.num('attention_dropout', 0),
    activationDropout: r.num('activation_dropout', 0), decoderStartTokenId: r.int('decoder_start_token_id', 50257),
    eosTokenId: Number.isInteger(json.eos_token_id) ? (json.eos_token_id as number) : null,
    padTokenId: Number.isInteger(json.pad_token_id) ? (json.pad_token_id as number) : 0,
  };
  for (const [h, n] of [['encoder_attention_heads', c.encoderAttentionHeads], ['decoder_attention_heads', c.decoderAttentionHeads]] as const) {
    if (c.dModel % n) r.fail(`"${h}" (${n}) must divide "d_model" (${c.dModel})`);
  }
  return c;
}

export function whisperConfigToJson(c: WhisperConfig): Json {
  return {
    architectures: ['WhisperForConditionalGeneration'], model_type: 'whisper', vocab_size: c.vocabSize, num_mel_bins: c.numMelBins, d_model: c.dModel,
    encoder_layers: c.encoderLayers, decoder_layers: c.decoderLayers, encoder_attention_heads: c.encoderAttentionHeads,
    decoder_attention_heads: c.decoderAttentionHeads, encoder_ffn_dim: c.encoderFfnDim, decoder_ffn_dim: c.decoderFfnDim,
    max_source_positions: c.maxSourcePositions, max_target_positions: c.maxTargetPositions,
    activation_function: { gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' }[c.activation], dropout: c.dropout,
    attention_dropout: c.attentionDropout, activation_dropout: c.activationDropout, decoder_start_token_id: c.decoderStartTokenId,
    eos_token_id: c.eosTokenId, pad_token_id: c.padTokenId, scale_embedding: false, tie_word_embeddings: true, is_encoder_decoder: true,
  };
}

/** Whisper's attention: q_proj, k_proj (no bias), v_proj, out_proj; self (causal on a cache, or not) or cross. */
class WhisperAttention extends Module {
  readonly k_proj: Dense;
  readonly v_proj: Dense;
  readonly q_proj: Dense;
  readonly out_proj: Dense;

  constructor(readonly d: number, readonly heads: number, readonly pDrop: number, g: Generator) {
    super();
    this.k_proj = this.module('k_proj', new Dense(d, d, { bias: false, generator: g }));
    this.v_proj = this.module('v_proj', new Dense(d, d, { generator: g }));
    this.q_proj = this.module('q_proj', new Dense(d, d, { generator: g }));
    this.out_proj = this.module('out_proj', new Dense(d, d, { generator: g }));
  }

  /** x (B, L, d) attends over source (B, S, d) (x itself for self-attention) -> (B, L, d) and alpha' (B, H, L, S) on request. */
  forward(x: Tensor, source: Tensor, o: { causal: boolean; cache: DecodingCache | null; needWeights: boolean }): { y: Tensor; alphaPrime: Tensor | null } {
    const [B, L, d] = x.shape as [number, number, number];
    const H = this.heads;
    return tidy(() => {
      const heads = (t: Tensor) => permute(reshape(t, [B, t.shape[1]!, H, d / H]), [0, 2, 1, 3]); // (B, H, ·, hd)
      const r = attendWith(attentionKind('softmax', 'WhisperAttention'), {
        q: heads(this.q_proj.forward(x)), k: heads(this.k_proj.forward(source)), v: heads(this.v_proj.forward(source)),
        causal: o.causal, window: null, cache: o.cache, needWeights: o.needWeights, dropout: this.pDrop, training: this.training,
        params: {}, module: 'WhisperAttention',
      });
      return { y: this.out_proj.forward(reshape(permute(r.b, [0, 2, 1, 3]), [B, L, d])), alphaPrime: r.alphaPrime };
    });
  }
}

/** fc1, activation, fc2 with pre-LN (final_layer_norm) and dropout: the feed-forward half of a layer. */
function feedForward(layer: { fc1: Dense; fc2: Dense; final_layer_norm: LayerNorm; drop: Dropout; actDrop: Dropout; c: WhisperConfig }, h: Tensor): Tensor {
  return add(h, dropped(layer.drop, layer.fc2.forward(dropped(layer.actDrop, act(layer.fc1.forward(layer.final_layer_norm.forward(h)), layer.c.activation)))));
}

class WhisperEncoderLayer extends Module {
  readonly self_attn: WhisperAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly fc1: Dense;
  readonly fc2: Dense;
  readonly final_layer_norm: LayerNorm;
  readonly drop: Dropout;
  readonly actDrop: Dropout;

  constructor(readonly c: WhisperConfig, g: Generator) {
    super();
    this.self_attn = this.module('self_attn', new WhisperAttention(c.dModel, c.encoderAttentionHeads, c.attentionDropout, g));
    this.self_attn_layer_norm = this.module('self_attn_layer_norm', new LayerNorm(c.dModel));
    this.fc1 = this.module('fc1', new Dense(c.dModel, c.encoderFfnDim, { generator: g }));
    this.fc2 = this.module('fc2', new Dense(c.encoderFfnDim, c.dModel, { generator: g }));
    this.final_layer_norm = this.module('final_layer_norm', new LayerNorm(c.dModel));
    this.drop = this.module('dropout', new Dropout(c.dropout));
    this.actDrop = this.module('activation_dropout', new Dropout(c.activationDropout));
  }

  forward(x: Tensor, needWeights: boolean): { h: Tensor; alphaPrime: Tensor | null } {
    return tidy(() => {
      const n = this.self_attn_layer_norm.forward(x);
      const a = this.self_attn.forward(n, n, { causal: false, cache: null, needWeights });
      return { h: feedForward(this, add(x, dropped(this.drop, a.y))), alphaPrime: a.alphaPrime };
    });
  }
}

class WhisperDecoderLayer extends Module {
  readonly self_attn: WhisperAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly encoder_attn: WhisperAttention;
  readonly encoder_attn_layer_norm: LayerNorm;
  readonly fc1: Dense;
  readonly fc2: Dense;
  readonly final_layer_norm: LayerNorm;
  readonly drop: Dropout;
  readonly actDrop: Dropout;

  constructor(readonly c: WhisperConfig, g: Generator) {
    super();
    this.self_attn = this.module('self_attn', new WhisperAttention(c.dModel, c.decoderAttentionHeads, c.attentionDropout, g));
    this.self_attn_layer_norm = this.module('self_attn_layer_norm', new LayerNorm(c.dModel));
    this.encoder_attn = this.module('encoder_attn', new WhisperAttention(c.dModel, c.decoderAttentionHeads, c.attentionDropout, g));
    this.encoder_attn_layer_norm = this.module('encoder_attn_layer_norm', new LayerNorm(c.dModel));
    this.fc1 = this.module('fc1', new Dense(c.dModel, c.decoderFfnDim, { generator: g }));
    this.fc2 = this.module('fc2', new Dense(c.decoderFfnDim, c.dModel, { generator: g }));
    this.final_layer_norm = this.module('final_layer_norm', new LayerNorm(c.dModel));
    this.drop = this.module('dropout', new Dropout(c.dropout));
    this.actDrop = this.module('activation_dropout', new Dropout(c.activationDropout));
  }

  forward(x: Tensor, memory: Tensor, cache: DecodingCache | null, needWeights: boolean): { h: Tensor; self: Tensor | null; cross: Tensor | null } {
    return tidy(() => {
      const n = this.self_attn_layer_norm.forward(x);
      const s = this.self_attn.forward(n, n, { causal: true, cache, needWeights });
      const h = add(x, dropped(this.drop, s.y));
      const c = this.encoder_attn.forward(this.encoder_attn_layer_norm.forward(h), memory, { causal: false, cache: null, needWeights });
      return { h: feedForward(this, add(h, dropped(this.drop, c.y))), self: s.alphaPrime, cross: c.alphaPrime };
    });
  }
}

/** A Conv1d's weight [out, in, k] and bias, by torch's names. */
class Conv extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inC: number, outC: number, k: number, g: Generator) {
    super();
    this.weight = this.param('weight', normal([outC, inC, k], 0.02, g));
    this.bias = this.param('bias', zeros([outC]));
  }
}

class WhisperEncoder extends Module {
  readonly conv1: Conv;
  readonly conv2: Conv;
  readonly embed_positions: Embedding;
  readonly layers: ModuleList<WhisperEncoderLayer>;
  readonly layer_norm: LayerNorm;

  constructor(readonly c: WhisperConfig, g: Generator) {
    super();
    this.conv1 = this.module('conv1', new Conv(c.numMelBins, c.dModel, 3, g));
    this.conv2 = this.module('conv2', new Conv(c.dModel, c.dModel, 3, g));
    this.embed_positions = this.module('embed_positions', new Embedding(c.maxSourcePositions, c.dModel, { generator: g }));
    this.layers = this.module('layers', new ModuleList(Array.from({ length: c.encoderLayers }, () => new WhisperEncoderLayer(c, g))));
    this.layer_norm = this.module('layer_norm', new LayerNorm(c.dModel));
  }

  /** log-mel features (B, mel bins, 2·max_source_positions) -> (B, max_source_positions, d) */
  forward(features: Tensor, o: { hidden?: Tensor[]; attentions?: Tensor[] } = {}): Tensor {
    const c = this.c;
    if (features.rank !== 3 || features.shape[1] !== c.numMelBins || features.shape[2] !== 2 * c.maxSourcePositions) {
      throw new ModuleError('WhisperEncoder', `input features must be (B, ${c.numMelBins}, ${2 * c.maxSourcePositions}) (30 s of log-mel frames), got ${shapeStr(features.shape)}`);
    }
    // the intermediates are returned out of the scope with h, so tidy keeps them alive
    const r = tidy(() => {
      const hidden: Tensor[] = [];
      const attentions: Tensor[] = [];
      const x1 = gelu(conv1d(features, this.conv1.weight, this.conv1.bias, { padding: 1 }));
      const x2 = gelu(conv1d(x1, this.conv2.weight, this.conv2.bias, { padding: 1, stride: 2 })); // (B, d, T/2)
      let h = add(permute(x2, [0, 2, 1]), this.embed_positions.weight); // (B, S, d) + the stored sinusoids
      hidden.push(h);
      this.layers.items.forEach((layer, i) => {
        const r = layer.forward(h, !!o.attentions);
        h = r.h;
        if (i < this.layers.items.length - 1) hidden.push(h);
        if (r.alphaPrime) attentions.push(r.alphaPrime);
      });
      h = this.layer_norm.forward(h);
      hidden.push(h); // transformers: the last hidden state is after the final layer norm
      return { h, hidden: o.hidden ? hidden : [], attentions };
    });
    o.hidden?.push(...r.hidden);
    o.attentions?.push(...r.attentions);
    return r.h;
  }
}

class WhisperDecoder extends Module {
  readonly embed_tokens: Embedding;
  readonly embed_positions: Embedding;
  readonly layers: ModuleList<WhisperDecoderLayer>;
  readonly layer_norm: LayerNorm;

  constructor(readonly c: WhisperConfig, g: Generator) {
    super();
    this.embed_tokens = this.module('embed_tokens', new Embedding(c.vocabSize, c.dModel, { generator: g, paddingIdx: c.padTokenId }));
    this.embed_positions = this.module('embed_positions', new Embedding(c.maxTargetPositions, c.dModel, { generator: g }));
    this.layers = this.module('layers', new ModuleList(Array.from({ length: c.decoderLayers }, () => new WhisperDecoderLayer(c, g))));
    this.layer_norm = this.module('layer_norm', new LayerNorm(c.dModel));
  }
}

class WhisperModel extends Module {
  readonly encoder: WhisperEncoder;
  readonly decoder: WhisperDecoder;

  constructor(c: WhisperConfig, g: Generator) {
    super();
    this.encoder = this.module('encoder', new WhisperEncoder(c, g));
    this.decoder = this.module('decoder', new WhisperDecoder(c, g));
  }
}

export interface Seq2SeqLMOutput {
  /** (B, T, vocab) */
  logits: Tensor;
  loss: Tensor | null;
  encoderLastHiddenState: Tensor;
  encoderHiddenStates: Tensor[] | null;
  decoderHiddenStates: Tensor[] | null;
  encoderAttentions: Tensor[] | null;
  decoderAttentions: Tensor[] | null;
  crossAttentions: Tensor[] | null;
}

export class WhisperForConditionalGeneration extends Module {
  readonly architecture = 'WhisperForConditionalGeneration';
  readonly model: WhisperModel;
  readonly proj_out: Linear;

  constructor(readonly config: WhisperConfig, generator: Generator = defaultGenerator) {
    super();
    this.model = this.module('model', new WhisperModel(config, generator));
    this.proj_out = this.module('proj_out', new Linear(config.dModel, config.vocabSize, { bias: false, weight: this.model.decoder.embed_tokens.weight }));
  }

  /** Runs the encoder once: features (B, mel bins, frames) -> (B, S, d). */
  encode(features: Tensor): Tensor {
    return this.model.encoder.forward(features);
  }

  /** Decoder ids (B, T) over an encoded input -> logits (B, T, vocab); with caches, positions continue after them. */
  decode(ids: Tensor, memory: Tensor, o: { caches?: DecodingCache[] | null; hidden?: Tensor[]; selfAttentions?: Tensor[]; crossAttentions?: Tensor[] } = {}): Tensor {
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ModuleError('WhisperForConditionalGeneration', `decoder ids must be int32 (B, T), got ${ids.dtype} ${shapeStr(ids.shape)}`);
    const past = cachedLength(o.caches?.[0]);
    const T = ids.shape[1]!;
    if (past + T > this.config.maxTargetPositions) throw new ModuleError('WhisperForConditionalGeneration', `cannot decode ${past + T} positions, max_target_positions is ${this.config.maxTargetPositions}`);
    const dec = this.model.decoder;
    const r = tidy(() => {
      const hidden: Tensor[] = [];
      const selfAtt: Tensor[] = [];
      const crossAtt: Tensor[] = [];
      let h = add(dec.embed_tokens.forward(ids), slice(dec.embed_positions.weight, 0, past, past + T)); // (B, T, d)
      hidden.push(h);
      const need = !!o.selfAttentions;
      dec.layers.items.forEach((layer, i) => {
        const r = layer.forward(h, memory, o.caches?.[i] ?? null, need);
        h = r.h;
        if (i < dec.layers.items.length - 1) hidden.push(h);
        if (r.self) selfAtt.push(r.self);
        if (r.cross) crossAtt.push(r.cross);
      });
      h = dec.layer_norm.forward(h);
      hidden.push(h);
      return { logits: this.proj_out.forward(h), hidden: o.hidden ? hidden : [], selfAtt, crossAtt };
    });
    o.hidden?.push(...r.hidden);
    o.selfAttentions?.push(...r.selfAtt);
    o.crossAttentions?.push(...r.crossAtt);
    return r.logits;
  }

  /** Teacher forcing: features and decoder ids -> logits, and on request every hidden state and attention map (transformers' order). */
  forward(x: { inputFeatures: Tensor; decoderInputIds: Tensor; labels?: Tensor | null; outputHiddenStates?: boolean; outputAttentions?: boolean }): Seq2SeqLMOutput {
    return tidy(() => {
      const encHidden: Tensor[] = [];
      const encAtt: Tensor[] = [];
      const memory = this.model.encoder.forward(x.inputFeatures, { hidden: x.outputHiddenStates ? encHidden : undefined, attentions: x.outputAttentions ? encAtt : undefined });
      const decHidden: Tensor[] = [];
      const selfAtt: Tensor[] = [];
      const crossAtt: Tensor[] = [];
      const logits = this.decode(x.decoderInputIds, memory, {
        hidden: x.outputHiddenStates ? decHidden : undefined, selfAttentions: x.outputAttentions ? selfAtt : undefined, crossAttentions: x.outputAttentions ? crossAtt : undefined,
      });
      return {
        logits, loss: x.labels ? crossEntropy(logits, x.labels.maximum(-1), { ignoreIndex: -1 }) : null, encoderLastHiddenState: memory,
        encoderHiddenStates: x.outputHiddenStates ? encHidden : null, decoderHiddenStates: x.outputHiddenStates ? decHidden : null,
        encoderAttentions: x.outputAttentions ? encAtt : null, decoderAttentions: x.outputAttentions ? selfAtt : null, crossAttentions: x.outputAttentions ? crossAtt : null,
      };
    });
  }

  /** One KVCache per decoder layer (self-attention; cross-attention recomputes its keys from the memory). */
  makeCaches(batch = 1): DecodingCache[] {
    const c = this.config;
    const hd = c.dModel / c.decoderAttentionHeads;
    return this.model.decoder.layers.items.map(() => attentionKind('softmax', 'Whisper').makeCache(batch, c.decoderAttentionHeads, hd, hd));
  }
}
