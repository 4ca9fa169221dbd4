// Hugging Face models as ONNX graphs, with Hugging Face's input and output names (as optimum's
// exports), forward passes only:
//   GPT2LMHeadModel             input_ids (B, T) -> logits (B, T, vocab)  (causal; no cache graph yet)
//   BertForTokenClassification  input_ids, token_type_ids, attention_mask (B, T) -> logits (B, T, labels)
//   BertForSequenceClassification  the same -> logits (B, labels) (tanh pooler on [CLS])
//   ViTForImageClassification   pixel_values (B, C, H, W), already through the image processor -> logits (B, labels)
// Adapters must be merged first (qkv export --onnx merges a PEFT adapter directory's).
import { ModuleError } from '../../nn/module.js';
import type { LayerNorm } from '../../nn/layers.js';
import {
  BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, ViTForImageClassification, type HfModel,
} from '../../nn/models/hf/index.js';
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

function gpt2Graph(m: GPT2LMHeadModel, opset: number): OnnxGraph {
  const c = m.config;
  const g = new OnnxGraph('gpt2', opset);
  g.nameTensors(m.namedParameters());
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const T = g.op('Shape', [ids], { start: 1, end: 2 });
  let x = g.op('Add', [g.op('Gather', [g.param(m.transformer.wte.weight), ids], { axis: 0 }), slice(g, g.param(m.transformer.wpe.weight), 0, 0, T)]); // (B, T, C)
  for (const block of m.transformer.h.items) {
    const [q, k, v] = g.opN('Split', [conv1d(g, ln(g, x, block.ln_1), block.attn.c_attn), g.ints([c.nEmbd, c.nEmbd, c.nEmbd])], { axis: -1 }, 3) as [string, string, string];
    const r = attendHeads(g, 'softmax', q, k, v, c.nHead, c.nEmbd, { causal: true });
    x = g.op('Add', [x, conv1d(g, r.merged, block.attn.c_proj)]);
    x = g.op('Add', [x, conv1d(g, act(g, conv1d(g, ln(g, x, block.ln_2), block.mlp.c_fc), c.activation), block.mlp.c_proj)]);
  }
  const logits = linear(g, ln(g, x, m.transformer.ln_f), m.lm_head); // lm_head.weight is wte's: one initializer
  g.output(logits, 'logits', 'float32', ['batch', 'sequence', c.vocabSize]);
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

/** The forward graph of a Hugging Face model; Whisper (and GPT-2's cache graph) are not exported yet: one line saying so. */
export function hfGraph(model: HfModel, opset: number): { graph: OnnxGraph; what: string } {
  checkMerged(model);
  if (model instanceof GPT2LMHeadModel) return { graph: gpt2Graph(model, opset), what: 'GPT2LMHeadModel: input_ids -> logits' };
  if (model instanceof BertForTokenClassification || model instanceof BertForSequenceClassification) {
    return { graph: bertGraph(model, opset), what: `${model.architecture}: input_ids, token_type_ids, attention_mask -> logits` };
  }
  if (model instanceof ViTForImageClassification) return { graph: vitGraph(model, opset), what: 'ViTForImageClassification: pixel_values -> logits' };
  throw new ModuleError(model.architecture, 'has no ONNX export yet (GPT-2, BERT and ViT do)');
}
