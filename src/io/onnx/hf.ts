// Hugging Face models as ONNX graphs, with Hugging Face's input and output names (as optimum's
// exports):
//   GPT2LMHeadModel             input_ids (B, T) -> logits (B, T, vocab) (causal); decoder: the same on
//                               new positions with past_key_i / past_value_i (B, heads, P, hd) in, present_* out
//   BertForTokenClassification  input_ids, token_type_ids, attention_mask (B, T) -> logits (B, T, labels)
//   BertForSequenceClassification  the same -> logits (B, labels) (tanh pooler on [CLS])
//   ViTForImageClassification   pixel_values (B, C, H, W), already through the image processor -> logits (B, labels)
//   WhisperForConditionalGeneration  model: the encoder, input_features (B, mel, 3000) -> last_hidden_state;
//                               decoder: input_ids, encoder_hidden_states + the self-attention's cache -> logits
// Adapters must be merged first (qkv export --onnx merges a PEFT adapter directory's).
import { ModuleError } from '../../nn/module.js';
import type { LayerNorm } from '../../nn/layers.js';
import {
  BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, ViTForImageClassification, type HfModel, type WhisperForConditionalGeneration,
} from '../../nn/models/hf/index.js';
import { cacheInputs, cacheOutputs } from './cache.js';
import type { Conv1D, Dense } from '../../nn/models/hf/layers.js';
import { attendHeads } from './attention.js';
import { OnnxGraph } from './graph.js';
import { gelu, layerNorm, linear, slice } from './layers.js';

/** GPT-2's Conv1D: y = x W + b with W stored [in, out] (no transpose). */
function conv1d(g: OnnxGraph, x: string, c: Conv1D): string {
  return g.op('Add', [g.op('MatMul', [x, g.param(c.weight)]), g.param(c.bias)]);
}

/** The activations Hugging Face configs name: gelu (erf), gelu_new / gelu_pytorch_tanh (tanh approximation), relu. */
function act(g: OnnxGraph, x: string, a: 'gelu' | 'gelu_tanh' | 'relu'): string {
  if (a === 'relu') return g.op('Relu', [x]);
  if (a === 'gelu') return gelu(g, x);
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [g.op('Mul', [g.op('Mul', [x, x]), x]), g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]), g.scalar(0.5)]);
}

const ln = (g: OnnxGraph, x: string, n: LayerNorm) => layerNorm(g, x, n);
const dense = (g: OnnxGraph, x: string, d: Dense) => linear(g, x, { weight: d.weight, bias: d.bias });

function checkMerged(model: HfModel): void {
  if ([...model.stateDict().keys()].some((k) => /\.lora_[AB]\.weight$/.test(k))) throw new ModuleError(model.architecture, 'carries LoRA adapters: merge them first (mergeLora) to export ONNX');
}

/** GPT-2: the forward pass, or (decoder) the same on new positions with past_key_i / past_value_i in and present_* out. */
function gpt2Graph(m: GPT2LMHeadModel, opset: number, decoder: boolean): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph(decoder ? 'gpt2_decoder' : 'gpt2', opset);
  g.nameTensors(m.namedParameters());
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const { caches, offset } = decoder ? cacheInputs(g, c.nLayer, c.nHead, c.nEmbd / c.nHead, 'softmax') : { caches: [], offset: null };
  const T = g.op('Shape', [ids], { start: 1, end: 2 });
  const start = offset ? g.op('Unsqueeze', [offset, g.ints([0])]) : g.ints([0]);
  let x = g.op('Add', [g.op('Gather', [g.param(m.transformer.wte.weight), ids], { axis: 0 }), slice(g, g.param(m.transformer.wpe.weight), 0, start, g.op('Add', [start, T]))]); // (B, T, C)
  m.transformer.h.items.forEach((block, i) => {
    const [q, k, v] = g.opN('Split', [conv1d(g, ln(g, x, block.ln_1), block.attn.c_attn), g.ints([c.nEmbd, c.nEmbd, c.nEmbd])], { axis: -1 }, 3) as [string, string, string];
    const r = attendHeads(g, 'softmax', q, k, v, c.nHead, c.nEmbd, { causal: true, ...caches[i] });
    x = g.op('Add', [x, conv1d(g, r.merged, block.attn.c_proj)]);
    x = g.op('Add', [x, conv1d(g, act(g, conv1d(g, ln(g, x, block.ln_2), block.mlp.c_fc), c.activation), block.mlp.c_proj)]);
    if (decoder) cacheOutputs(g, i, r, c.nHead, c.nEmbd / c.nHead);
  });
  const logits = linear(g, ln(g, x, m.transformer.ln_f), m.lm_head); // lm_head.weight is wte's: one initializer
  g.output(logits, 'logits', 'float32', ['batch', 'sequence', c.vocabSize]);
  g.outputs.unshift(g.outputs.pop()!); // logits first
  return g;
}

/** Whisper's encoder: input_features (B, mel bins, 2·max_source_positions) -> last_hidden_state (B, max_source_positions, d). */
function whisperEncoderGraph(m: WhisperForConditionalGeneration, opset: number): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph('whisper_encoder', opset);
  g.nameTensors(m.namedParameters());
  const enc = m.model.encoder;
  const x0 = g.input('input_features', 'float32', ['batch', c.numMelBins, 2 * c.maxSourcePositions]);
  const conv = (x: string, w: { weight: import('../../tensor/tensor.js').Tensor; bias: import('../../tensor/tensor.js').Tensor }, stride: number) =>
    gelu(g, g.op('Conv', [x, g.param(w.weight), g.param(w.bias)], { kernel_shape: [3], pads: [1, 1], strides: [stride] }));
  const x2 = conv(conv(x0, enc.conv1, 1), enc.conv2, 2); // (B, d, S)
  let h = g.op('Add', [g.op('Transpose', [x2], { perm: [0, 2, 1] }), g.param(enc.embed_positions.weight)]); // (B, S, d) + the stored sinusoids
  for (const layer of enc.layers.items) {
    const a = ln(g, h, layer.self_attn_layer_norm);
    const sa = layer.self_attn;
    const r = attendHeads(g, 'softmax', dense(g, a, sa.q_proj), dense(g, a, sa.k_proj), dense(g, a, sa.v_proj), c.encoderAttentionHeads, c.dModel, {});
    h = g.op('Add', [h, dense(g, r.merged, sa.out_proj)]);
    h = g.op('Add', [h, dense(g, act(g, dense(g, ln(g, h, layer.final_layer_norm), layer.fc1), c.activation), layer.fc2)]);
  }
  g.output(ln(g, h, enc.layer_norm), 'last_hidden_state', 'float32', ['batch', c.maxSourcePositions, c.dModel]);
  return g;
}

/**
 * Whisper's decoder on new positions: input_ids (B, T), encoder_hidden_states (B, S, d) and
 * past_key_i / past_value_i of the self-attention -> logits (B, T, vocab) and present_*; the
 * cross-attention's keys and values are made from encoder_hidden_states at each call.
 */
function whisperDecoderGraph(m: WhisperForConditionalGeneration, opset: number): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph('whisper_decoder', opset);
  g.nameTensors(m.namedParameters());
  const dec = m.model.decoder;
  const hd = c.dModel / c.decoderAttentionHeads;
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const memory = g.input('encoder_hidden_states', 'float32', ['batch', 'encoder_sequence', c.dModel]);
  const { caches, offset } = cacheInputs(g, dec.layers.items.length, c.decoderAttentionHeads, hd, 'softmax');
  const T = g.op('Shape', [ids], { start: 1, end: 2 });
  const start = g.op('Unsqueeze', [offset, g.ints([0])]);
  let h = g.op('Add', [g.op('Gather', [g.param(dec.embed_tokens.weight), ids], { axis: 0 }), slice(g, g.param(dec.embed_positions.weight), 0, start, g.op('Add', [start, T]))]);
  dec.layers.items.forEach((layer, i) => {
    const a = ln(g, h, layer.self_attn_layer_norm);
    const sa = layer.self_attn;
    const r = attendHeads(g, 'softmax', dense(g, a, sa.q_proj), dense(g, a, sa.k_proj), dense(g, a, sa.v_proj), c.decoderAttentionHeads, c.dModel, { causal: true, ...caches[i] });
    h = g.op('Add', [h, dense(g, r.merged, sa.out_proj)]);
    const ea = layer.encoder_attn;
    const x = ln(g, h, layer.encoder_attn_layer_norm);
    const cr = attendHeads(g, 'softmax', dense(g, x, ea.q_proj), dense(g, memory, ea.k_proj), dense(g, memory, ea.v_proj), c.decoderAttentionHeads, c.dModel, {});
    h = g.op('Add', [h, dense(g, cr.merged, ea.out_proj)]);
    h = g.op('Add', [h, dense(g, act(g, dense(g, ln(g, h, layer.final_layer_norm), layer.fc1), c.activation), layer.fc2)]);
    cacheOutputs(g, i, r, c.decoderAttentionHeads, hd);
  });
  g.output(linear(g, ln(g, h, dec.layer_norm), m.proj_out), 'logits', 'float32', ['batch', 'sequence', c.vocabSize]); // proj_out is embed_tokens: one initializer
  g.outputs.unshift(g.outputs.pop()!); // logits first
  return g;
}

function bertGraph(m: BertForTokenClassification | BertForSequenceClassification, opset: number): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph(m instanceof BertForTokenClassification ? 'bert_token_classification' : 'bert_sequence_classification', opset);
  g.nameTensors(m.namedParameters());
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const types = g.input('token_type_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']); // 1 = token, 0 = padding
  const keyPad = g.op('Equal', [mask, g.scalar(0, 'int64')]); // bool (B, S): true = padding
  const e = m.bert.embeddings;
  const T = g.op('Shape', [ids], { start: 1, end: 2 });
  const sum = g.op('Add', [g.op('Add', [g.op('Gather', [g.param(e.word_embeddings.weight), ids], { axis: 0 }), g.op('Gather', [g.param(e.token_type_embeddings.weight), types], { axis: 0 })]),
    slice(g, g.param(e.position_embeddings.weight), 0, 0, T)]);
  let h = ln(g, sum, e.LayerNorm);
  for (const layer of m.bert.encoder.layer.items) { // post-LN
    const s = layer.attention.self;
    const r = attendHeads(g, 'softmax', dense(g, h, s.query), dense(g, h, s.key), dense(g, h, s.value), c.numAttentionHeads, c.hiddenSize, { keyPad });
    h = ln(g, g.op('Add', [dense(g, r.merged, layer.attention.output.dense), h]), layer.attention.output.LayerNorm);
    const f = act(g, dense(g, h, layer.intermediate.dense), c.activation);
    h = ln(g, g.op('Add', [dense(g, f, layer.output.dense), h]), layer.output.LayerNorm);
  }
  if (m instanceof BertForTokenClassification) {
    g.output(dense(g, h, m.classifier), 'logits', 'float32', ['batch', 'sequence', c.labels.length]);
    return g;
  }
  const cls = g.op('Gather', [h, g.scalar(0, 'int64')], { axis: 1 }); // (B, hidden)
  g.output(dense(g, g.op('Tanh', [dense(g, cls, m.bert.pooler!.dense)]), m.classifier), 'logits', 'float32', ['batch', c.labels.length]);
  return g;
}

function vitGraph(m: ViTForImageClassification, opset: number): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph('vit_image_classification', opset);
  g.nameTensors(m.namedParameters());
  const px = g.input('pixel_values', 'float32', ['batch', c.numChannels, c.imageSize, c.imageSize]);
  const e = m.vit.embeddings;
  const p = c.patchSize;
  const grid = g.op('Conv', [px, g.param(e.patch_embeddings.projection.weight), g.param(e.patch_embeddings.projection.bias)], { kernel_shape: [p, p], strides: [p, p], pads: [0, 0, 0, 0] }); // (B, D, H/p, W/p)
  const patches = g.op('Transpose', [g.op('Reshape', [grid, g.ints([0, c.hiddenSize, -1])])], { perm: [0, 2, 1] }); // (B, N, D), row by row
  const shape = g.op('Concat', [g.op('Shape', [px], { start: 0, end: 1 }), g.ints([1, c.hiddenSize])], { axis: 0 }); // [B, 1, D]
  let h = g.op('Add', [g.op('Concat', [g.op('Expand', [g.param(e.cls_token), shape]), patches], { axis: 1 }), g.param(e.position_embeddings)]); // (B, 1 + N, D)
  for (const layer of m.vit.encoder.layer.items) { // pre-LN
    const a = ln(g, h, layer.layernorm_before);
    const s = layer.attention.attention;
    const r = attendHeads(g, 'softmax', dense(g, a, s.query), dense(g, a, s.key), dense(g, a, s.value), c.numAttentionHeads, c.hiddenSize, {});
    h = g.op('Add', [h, dense(g, r.merged, layer.attention.output.dense)]);
    h = g.op('Add', [h, dense(g, act(g, dense(g, ln(g, h, layer.layernorm_after), layer.intermediate.dense), c.activation), layer.output.dense)]);
  }
  const cls = g.op('Gather', [ln(g, h, m.vit.layernorm), g.scalar(0, 'int64')], { axis: 1 }); // (B, D)
  g.output(dense(g, cls, m.classifier), 'logits', 'float32', ['batch', c.labels.length]);
  return g;
}

export interface HfGraph { role: 'model' | 'decoder'; graph: OnnxGraph; what: string }

/** The ONNX graphs of a Hugging Face model: the forward pass (Whisper: the encoder), and for GPT-2 and Whisper a decoder on a KV cache. */
export function hfGraphs(model: HfModel, opset: number): HfGraph[] {
  checkMerged(model);
  if (model instanceof GPT2LMHeadModel) {
    return [
      { role: 'model', graph: gpt2Graph(model, opset, false), what: 'GPT2LMHeadModel: input_ids -> logits' },
      { role: 'decoder', graph: gpt2Graph(model, opset, true), what: 'GPT2LMHeadModel decoder: input_ids + past_key/value_i -> logits + present_key/value_i' },
    ];
  }
  if (model instanceof BertForTokenClassification || model instanceof BertForSequenceClassification) {
    return [{ role: 'model', graph: bertGraph(model, opset), what: `${model.architecture}: input_ids, token_type_ids, attention_mask -> logits` }];
  }
  if (model instanceof ViTForImageClassification) return [{ role: 'model', graph: vitGraph(model, opset), what: 'ViTForImageClassification: pixel_values -> logits' }];
  return [
    { role: 'model', graph: whisperEncoderGraph(model, opset), what: 'Whisper encoder: input_features -> last_hidden_state' },
    { role: 'decoder', graph: whisperDecoderGraph(model, opset), what: 'Whisper decoder: input_ids, encoder_hidden_states + past_key/value_i -> logits + present_key/value_i' },
  ];
}
