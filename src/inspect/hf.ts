// What the visualizer shows for a Hugging Face model (GPT-2, BERT, ViT, Whisper): every layer's
// attention in the lecture's names, read from the model's own forward pass. The vectors a^i an
// attention read are the layer's input (after its LayerNorm in the pre-LN models); q, k, v are
// its projections of them, alpha = q·k/√d (causal: the future blocked), alpha' the weights the
// model returned (output_attentions, which the golden tests compare with transformers), and
// b = alpha'·v. Adapters must be merged first (the page shows one W^q, W^k, W^v per head).
import type { Dense } from '../nn/models/hf/layers.js';
import { BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, ViTForImageClassification, WhisperForConditionalGeneration, type HfModel } from '../nn/models/hf/index.js';
import type { LayerNorm } from '../nn/layers.js';
import { concat } from '../ops/join.js';
import { matmul } from '../ops/linalg.js';
import { permute, reshape, slice, transpose } from '../ops/views.js';
import { tensor, zeros } from '../ops/creation.js';
import { add, mul } from '../ops/elementwise.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { kindInfo, layerJSON, rows } from './heads.js';
import type { AttentionPart, LayerInspection, ModelInspection } from './wire.js';

/** One attention of one layer: what its queries and its keys are made from, and its projections [out, in]. */
interface Site {
  /** (1, T, E) the vectors the queries read (a^i) */
  a: Tensor;
  /** (1, S, E) what keys and values are made from (a itself for self-attention) */
  source: Tensor;
  Wq: Tensor; Wk: Tensor; Wv: Tensor;
  bq: Tensor | null; bk: Tensor | null; bv: Tensor | null;
  /** (1, H, T, S) the model's weights */
  alphaPrime: Tensor;
  causal: boolean;
}

/** The layer's intermediates per head, as the page reads them. */
function siteJSON(s: Site, H: number): LayerInspection {
  const E = s.Wq.shape[1]!;
  const hd = s.Wq.shape[0]! / H;
  return tidy(() => {
    const heads = (x: Tensor, W: Tensor, b: Tensor | null) => { // (1, L, E) -> (1, H, L, hd)
      let y = matmul(x, transpose(W));
      if (b) y = add(y, b);
      return permute(reshape(y, [1, x.shape[1]!, H, hd]), [0, 2, 1, 3]);
    };
    const q = heads(s.a, s.Wq, s.bq);
    const k = heads(s.source, s.Wk, s.bk);
    const v = heads(s.source, s.Wv, s.bv);
    let alpha = mul(matmul(q, transpose(k)), 1 / Math.sqrt(hd)); // (1, H, T, S)
    if (s.causal) {
      const T = q.shape[2]!;
      const S = k.shape[2]!;
      const mask = tensor(Array.from({ length: T * S }, (_, i) => ((i % S) > Math.floor(i / S) + (S - T) ? -Infinity : 0)), { shape: [T, S] });
      alpha = add(alpha, mask);
    }
    const b = matmul(s.alphaPrime, v); // (1, H, T, hd)
    const bias = s.bq || s.bk || s.bv ? concat([s.bq ?? zeros([H * hd]), s.bk ?? zeros([H * hd]), s.bv ?? zeros([H * hd])], 0) : null;
    return layerJSON({ a: s.a, q, k, v, alpha, alphaPrime: s.alphaPrime, b },
      { W: concat([s.Wq, s.Wk, s.Wv], 0), bias, w: null }, H, hd, E, false);
  });
}

const dense = (d: Dense) => ({ W: d.weight, b: d.bias });

function site(a: Tensor, source: Tensor, q: { W: Tensor; b: Tensor | null }, k: { W: Tensor; b: Tensor | null }, v: { W: Tensor; b: Tensor | null }, alphaPrime: Tensor, causal: boolean): Site {
  return { a, source, Wq: q.W, Wk: k.W, Wv: v.W, bq: q.b, bk: k.b, bv: v.b, alphaPrime, causal };
}

const noMask = (T: number, S = T): boolean[][] => Array.from({ length: T }, () => new Array<boolean>(S).fill(false));
const causalMask = (T: number): boolean[][] => Array.from({ length: T }, (_, i) => Array.from({ length: T }, (__, j) => j > i));

function header(kind: string, layers: number, heads: number, dModel: number, pos: string, normFirst: boolean): ModelInspection['model'] {
  return { kind, attention: 'softmax', pos, layers, heads, dModel, headDim: dModel / heads, window: null, normFirst, scale: 1 / Math.sqrt(dModel / heads), ...kindInfo('softmax') };
}

/** What an HF model reads, prepared by the caller (run/hf-use.ts: tokenizer, image processor, log-mel). */
export type HfInspectInput =
  | { kind: 'ids'; ids: number[]; typeIds?: number[]; tokens: string[] }
  | { kind: 'pixels'; pixels: Float32Array; tokens?: string[] }
  | { kind: 'speech'; features: Float32Array; frames: number; decoderIds: number[]; decoderTokens: string[]; sourcePositions: number };

/** Runs the model on one input and returns its attention, layer by layer and head by head. */
export function inspectHf(model: HfModel, input: HfInspectInput, prediction: string | string[]): ModelInspection {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      if (model instanceof GPT2LMHeadModel) return inspectGpt2(model, input as Extract<HfInspectInput, { kind: 'ids' }>, prediction);
      if (model instanceof ViTForImageClassification) return inspectVit(model, input as Extract<HfInspectInput, { kind: 'pixels' }>, prediction);
      if (model instanceof WhisperForConditionalGeneration) return inspectWhisper(model, input as Extract<HfInspectInput, { kind: 'speech' }>, prediction);
      return inspectBert(model, input as Extract<HfInspectInput, { kind: 'ids' }>, prediction);
    });
  } finally {
    model.train(wasTraining);
  }
}

function inspectGpt2(m: GPT2LMHeadModel, x: Extract<HfInspectInput, { kind: 'ids' }>, prediction: string | string[]): ModelInspection {
  const c = m.config;
  const E = c.nEmbd;
  const T = x.ids.length;
  const layers = tidy(() => {
    const out = m.forward(tensor([x.ids], { dtype: 'int32' }), { outputHiddenStates: true, outputAttentions: true });
    return m.transformer.h.items.map((block, i) => {
      const a = block.ln_1.forward(out.hiddenStates![i]!);
      const W = transpose(block.attn.c_attn.weight); // Conv1D [in, 3E] -> [3E, in]
      const part = (j: number) => ({ W: slice(W, 0, j * E, (j + 1) * E), b: slice(block.attn.c_attn.bias, 0, j * E, (j + 1) * E) });
      return siteJSON(site(a, a, part(0), part(1), part(2), out.attentions![i]!, true), c.nHead);
    });
  });
  return {
    task: 'lm', input: 'words', tokens: x.tokens, keys: null, unknown: new Array<boolean>(T).fill(false), edges: null, prediction,
    model: header('GPT2LMHeadModel', c.nLayer, c.nHead, E, 'learned', true), blocked: causalMask(T), layers, parts: null, generation: null,
  };
}

function inspectBert(m: BertForTokenClassification | BertForSequenceClassification, x: Extract<HfInspectInput, { kind: 'ids' }>, prediction: string | string[]): ModelInspection {
  const c = m.config;
  const T = x.ids.length;
  const layers = tidy(() => {
    const out = m.forward({ inputIds: tensor([x.ids], { dtype: 'int32' }), tokenTypeIds: x.typeIds ? tensor([x.typeIds], { dtype: 'int32' }) : null, outputHiddenStates: true, outputAttentions: true });
    return m.bert.encoder.layer.items.map((layer, i) => {
      const a = out.hiddenStates![i]!; // post-LN: the layer reads its input as it is
      const s = layer.attention.self;
      return siteJSON(site(a, a, dense(s.query), dense(s.key), dense(s.value), out.attentions![i]!, false), c.numAttentionHeads);
    });
  });
  return {
    task: m instanceof BertForTokenClassification ? 'tag' : 'classify', input: 'words', tokens: x.tokens, keys: null, unknown: new Array<boolean>(T).fill(false), edges: null, prediction,
    model: header(m.architecture, c.numHiddenLayers, c.numAttentionHeads, c.hiddenSize, 'learned', false), blocked: noMask(T), layers, parts: null, generation: null,
  };
}

function inspectVit(m: ViTForImageClassification, x: Extract<HfInspectInput, { kind: 'pixels' }>, prediction: string | string[]): ModelInspection {
  const c = m.config;
  const side = c.imageSize / c.patchSize;
  const T = side * side + 1;
  const layers = tidy(() => {
    const out = m.forward({ pixelValues: tensor(x.pixels, { shape: [1, c.numChannels, c.imageSize, c.imageSize] }), outputHiddenStates: true, outputAttentions: true });
    return m.vit.encoder.layer.items.map((layer, i) => {
      const a = layer.layernorm_before.forward(out.hiddenStates![i]!);
      const s = layer.attention.attention;
      return siteJSON(site(a, a, dense(s.query), dense(s.key), dense(s.value), out.attentions![i]!, false), c.numAttentionHeads);
    });
  });
  const tokens = x.tokens ?? ['[CLS]', ...Array.from({ length: T - 1 }, (_, i) => `patch ${Math.floor(i / side)},${i % side}`)];
  return {
    task: 'classify', input: 'frames', tokens, keys: null, unknown: new Array<boolean>(T).fill(false), edges: null, prediction,
    model: header('ViTForImageClassification', c.numHiddenLayers, c.numAttentionHeads, c.hiddenSize, 'learned', true), blocked: noMask(T), layers, parts: null, generation: null,
  };
}

/**
 * Whisper: the encoder reads 1500 positions (30 s) whatever the audio's length; the page shows the
 * first `sourcePositions` of them (those the audio covers) as queries and keys, with the weights the
 * model gave them over all 1500 keys (so a row's weights sum to at most 1), then the decoder's
 * causal self-attention over the forced prefix and the output, and its cross-attention over those positions.
 */
function inspectWhisper(m: WhisperForConditionalGeneration, x: Extract<HfInspectInput, { kind: 'speech' }>, prediction: string | string[]): ModelInspection {
  const c = m.config;
  const S = Math.min(x.sourcePositions, c.maxSourcePositions);
  const T = x.decoderIds.length;
  const ln = (n: LayerNorm, h: Tensor) => n.forward(h);
  const { encoder, decoder, cross } = tidy(() => {
    const out = m.forward({ inputFeatures: tensor(x.features, { shape: [1, c.numMelBins, x.frames] }), decoderInputIds: tensor([x.decoderIds], { dtype: 'int32' }), outputHiddenStates: true, outputAttentions: true });
    const encoder = m.model.encoder.layers.items.map((layer, i) => {
      const full = ln(layer.self_attn_layer_norm, out.encoderHiddenStates![i]!);
      const a = slice(full, 1, 0, S);
      const sa = layer.self_attn;
      // keys over the shown positions: the weights are the model's over all of them, sliced to the shown keys
      return siteJSON(site(a, a, dense(sa.q_proj), dense(sa.k_proj), dense(sa.v_proj), slice(slice(out.encoderAttentions![i]!, 2, 0, S), 3, 0, S), false), c.encoderAttentionHeads);
    });
    const memory = out.encoderLastHiddenState;
    const aKeys = rows(slice(memory, 1, 0, S).select(0, 0));
    const decoder: LayerInspection[] = [];
    const cross: LayerInspection[] = [];
    m.model.decoder.layers.items.forEach((layer, i) => {
      const h = out.decoderHiddenStates![i]!;
      const a = ln(layer.self_attn_layer_norm, h);
      const sa = layer.self_attn;
      decoder.push(siteJSON(site(a, a, dense(sa.q_proj), dense(sa.k_proj), dense(sa.v_proj), out.decoderAttentions![i]!, true), c.decoderAttentionHeads));
      // cross-attention reads the residual stream after self-attention (recomputed as the layer does)
      const mid = add(h, sa.forward(a, a, { causal: true, cache: null, needWeights: false }).y);
      const ea = layer.encoder_attn;
      const full = siteJSON(site(ln(layer.encoder_attn_layer_norm, mid), slice(memory, 1, 0, S), dense(ea.q_proj), dense(ea.k_proj), dense(ea.v_proj), slice(out.crossAttentions![i]!, 3, 0, S), false), c.decoderAttentionHeads);
      cross.push({ ...full, aKeys });
    });
    return { encoder, decoder, cross };
  });
  const source = Array.from({ length: S }, (_, i) => `frame ${i}`);
  const parts: AttentionPart[] = [
    { name: 'decoder self-attention', tokens: x.decoderTokens, keys: null, blocked: causalMask(T), layers: decoder },
    { name: 'cross-attention', tokens: x.decoderTokens, keys: source, blocked: noMask(T, S), layers: cross },
  ];
  return {
    task: 'seq2seq', input: 'frames', tokens: source, keys: null, unknown: new Array<boolean>(S).fill(false), edges: null, prediction,
    model: header('WhisperForConditionalGeneration', c.encoderLayers, c.encoderAttentionHeads, c.dModel, 'sinusoidal', true), blocked: noMask(S), layers: encoder, parts, generation: null,
  };
}
