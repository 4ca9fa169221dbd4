// The taggers and classifiers (SequenceTagger, SequenceClassifier, ImageClassifier) as ONNX
// graphs: ids (+ chars, word_index) or frames, key_padding_mask -> logits; images -> logits.
import type { ImageClassifier, InputLayer } from '../../nn/models/taggers.js';
import { SequenceTagger, type SequenceClassifier } from '../../nn/models/taggers.js';
import { sequenceEncoder } from './encoders.js';
import { OnnxGraph } from './graph.js';
import { linear, reduce, unsqueeze } from './layers.js';
import { imageEncoder } from './vision.js';

export interface SequenceGraphOptions {
  /** Rows of the rotary tables (RoPE models). */
  maxLen?: number;
  /** Add an `attn_mask` (B, T, T) input, 1 = no edge (graph inputs). */
  graphInput?: boolean;
}

/** The input layer: word vectors (+ the character CNN over each distinct word) or frames, (B, T, d). */
function inputLayer(g: OnnxGraph, embed: InputLayer): string {
  if (embed.input.kind === 'frames') return g.input('frames', 'float32', ['batch', 'sequence', embed.input.frameDim]);
  const ids = g.input('ids', 'int64', ['batch', 'sequence']);
  const w = g.op('Gather', [g.param(embed.words!.weight), ids], { axis: 0 }); // (B, T, d)
  if (!embed.chars) return w;
  const chars = g.input('chars', 'int64', ['words', 'word_length']); // (U, C): the spelling of each distinct word
  const wordIndex = g.input('word_index', 'int64', ['batch', 'sequence']); // which of the U words sits at each position
  const e = g.op('Transpose', [g.op('Gather', [g.param(embed.chars.chars.weight), chars], { axis: 0 })], { perm: [0, 2, 1] }); // (U, charDim, C)
  const conv = embed.chars.conv;
  const convInputs = [e, g.param(conv.weight), ...(conv.bias ? [g.param(conv.bias)] : [])];
  const span = conv.kernelSize - 1;
  const h = g.op('Relu', [g.op('Conv', convInputs, { kernel_shape: [conv.kernelSize], pads: [Math.floor(span / 2), span - Math.floor(span / 2)] })]);
  const spelled = reduce(g, 'ReduceMax', h, [2], false); // (U, d): strongest feature over the word's characters
  return g.op('Add', [w, g.op('Gather', [spelled, wordIndex], { axis: 0 })]);
}

export function sequenceModelGraph(model: SequenceTagger | SequenceClassifier, opset: number, options: SequenceGraphOptions): OnnxGraph {
  const g = new OnnxGraph(model instanceof SequenceTagger ? 'tagger' : 'classifier', opset);
  g.nameTensors(model.stateDict());
  const a = inputLayer(g, model.embed);
  const pad = g.input('key_padding_mask', 'int64', ['batch', 'sequence']); // 1 = padding
  const keyPad = g.op('Cast', [pad], { to: 9 });
  const attnMask = options.graphInput ? g.op('Cast', [g.input('attn_mask', 'int64', ['batch', 'sequence', 'sequence'])], { to: 9 }) : null;
  const h = sequenceEncoder(g, model.encoder, a, { keyPad, attnMask, maxLen: options.maxLen }); // (B, T, H)
  if (model instanceof SequenceTagger) {
    g.output(linear(g, h, model.head), 'logits', 'float32', ['batch', 'sequence', model.head.outFeatures]);
    return g;
  }
  const keep = unsqueeze(g, g.op('Sub', [g.scalar(1), g.op('Cast', [pad], { to: 1 })]), [2]); // (B, T, 1): 1 at real positions
  const pooled = g.op('Div', [reduce(g, 'ReduceSum', g.op('Mul', [h, keep]), [1], false), reduce(g, 'ReduceSum', keep, [1], false)]); // (B, H)
  g.output(linear(g, pooled, model.head), 'logits', 'float32', ['batch', model.head.outFeatures]);
  return g;
}

export function imageModelGraph(model: ImageClassifier, opset: number): OnnxGraph {
  const g = new OnnxGraph('image_classifier', opset);
  g.nameTensors(model.stateDict());
  const { channels, height, width } = model.encoder.options;
  const images = g.input('images', 'float32', ['batch', channels, height, width]);
  g.output(linear(g, imageEncoder(g, model.encoder, images), model.head), 'logits', 'float32', ['batch', model.head.outFeatures]); // (B, labels)
  return g;
}
