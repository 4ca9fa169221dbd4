// exportOnnx: every model qkv trains as ONNX graphs with their vocabularies, labels and task in
// metadata_props, so ONNX Runtime can use them without qkv.
//   lm (GPT):      model = idx -> logits; decoder = the same with a KV cache (or linear attention's state)
//   tag, classify: model = ids (+ chars, word_index) or frames, key_padding_mask -> logits
//   seq2seq:       model = the encoder, src -> memory; decoder = one decoder call on a KV cache
//   classify (images): model = images (B, C, H, W), normalised as metadata `preprocessing` says -> logits
import { QkvError } from '../core/errors.js';
import { cacheInputs, cacheOutputs, ONNX_OPSETS, DEFAULT_OPSET, OnnxGraph, gptGraph, imageEncoder, sequenceEncoder, addPositions, encoderStack, decoderLayer, layerNorm, linear, reduce, unsqueeze } from '../io/onnx/index.js';
import { GPT } from '../nn/models/gpt.js';
import { RotaryEmbedding } from '../nn/attention/positional.js';
import { ImageClassifier, SequenceClassifier, SequenceTagger, type InputLayer } from '../nn/models/taggers.js';
import { describePreprocessing, type ImageFrontEnd } from '../data/image/pixels.js';
import { Seq2SeqModel } from '../nn/models/seq2seq.js';
import type { TaskInstance } from './driver.js';

export interface OnnxExportOptions {
  /** 17 (default: LayerNormalization as one node; today's ONNX Runtime everywhere) or 23 (the Attention operator). */
  opset?: number;
  /** Rows of the rotary tables (RoPE models); positions beyond them are out of range in the graph. Default 4096. */
  maxLen?: number;
  /** Taggers/classifiers: add an `attn_mask` (B, T, T) input, 1 = no edge (graph inputs). */
  graphInput?: boolean;
}

export interface OnnxFile {
  /** 'model': the forward pass (seq2seq: the encoder); 'decoder': the step-by-step graph. */
  role: 'model' | 'decoder';
  bytes: Uint8Array;
  /** What the file is, for the CLI's report. */
  what: string;
  /** What was spelled out in primitive ops because ONNX has no operator for it (also in the model's doc_string). */
  notes: string[];
}

function file(role: OnnxFile['role'], g: OnnxGraph, meta: Record<string, string>, what: string): OnnxFile {
  return { role, bytes: g.encode(meta), what, notes: [...g.notes] };
}

type Exportable = TaskInstance | GPT | SequenceTagger | SequenceClassifier | ImageClassifier | Seq2SeqModel;

/** The ONNX graphs of a model or a task instance (a loaded checkpoint). Throws one line naming what cannot be exported. */
export function exportOnnx(target: Exportable, options: OnnxExportOptions = {}): OnnxFile[] {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(ONNX_OPSETS as readonly number[]).includes(opset)) throw new QkvError(`exportOnnx: opset must be one of ${ONNX_OPSETS.join(', ')}, got ${opset}`);
  const instance = isInstance(target) ? target : null;
  const model = instance ? instance.model : target;
  const meta: Record<string, string> = instance ? metadataOf(instance) : {};
  if (model instanceof GPT) {
    meta.task ??= 'lm';
    meta.gpt_config = JSON.stringify(model.config);
    return [
      file('model', gptGraph(model, 'forward', opset), { ...meta, graph: 'forward' }, 'GPT forward: idx -> logits'),
      file('decoder', gptGraph(model, 'decoder', opset), { ...meta, graph: 'decoder' }, `GPT decoder with ${model.config.attention === 'linear' ? 'recurrent state (S, z)' : 'KV cache'}`),
    ];
  }
  if (model instanceof SequenceTagger || model instanceof SequenceClassifier) {
    meta.task ??= model instanceof SequenceTagger ? 'tag' : 'classify';
    return [file('model', sequenceModelGraph(model, opset, options), meta, `${meta.task}: inputs -> logits`)];
  }
  if (model instanceof ImageClassifier) {
    meta.task ??= 'classify';
    if (options.graphInput) throw new QkvError('ImageClassifier: a graph mask (--graph-input) is for sequences of nodes, not images');
    const { channels, height, width } = model.encoder.options;
    const frontEnd = instance ? (instance.config as { featurizer?: { frontEnd?: ImageFrontEnd } }).featurizer?.frontEnd : undefined;
    // what must happen to pixels before the graph (the normalisation is the front end's, outside the model)
    meta.preprocessing = frontEnd ? describePreprocessing(frontEnd)
      : `float32 (batch, ${channels}, ${height}, ${width}) images, normalised as the model's training images were (no front end was saved with it)`;
    return [file('model', imageModelGraph(model, opset), meta, `classify: images (${channels}×${height}×${width}) -> logits`)];
  }
  if (model instanceof Seq2SeqModel) {
    meta.task ??= 'seq2seq';
    return [
      file('model', seq2seqEncoderGraph(model, opset), { ...meta, graph: 'encoder' }, 'seq2seq encoder: src -> memory'),
      file('decoder', seq2seqDecoderGraph(model, opset), { ...meta, graph: 'decoder' }, `seq2seq decoder step with ${model.config.attention === 'linear' ? 'recurrent state (S, z)' : 'a KV cache'}`),
    ];
  }
  throw new QkvError(`exportOnnx: ${(model as object)?.constructor?.name ?? String(model)} has no ONNX export`);
}

function isInstance(t: Exportable): t is TaskInstance {
  return typeof (t as TaskInstance).config === 'object' && 'model' in t && !(t instanceof GPT);
}

/** Vocabulary, labels and task of a task instance, as strings. */
function metadataOf(instance: TaskInstance): Record<string, string> {
  const c = instance.config as Record<string, unknown>;
  const meta: Record<string, string> = { task: String(c.task) };
  for (const key of ['labels', 'featurizer', 'vocab', 'tokenize', 'source', 'target', 'model']) {
    if (c[key] !== undefined) meta[key] = typeof c[key] === 'string' ? (c[key] as string) : JSON.stringify(c[key]);
  }
  return meta;
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

function sequenceModelGraph(model: SequenceTagger | SequenceClassifier, opset: number, options: OnnxExportOptions): OnnxGraph {
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

function imageModelGraph(model: ImageClassifier, opset: number): OnnxGraph {
  const g = new OnnxGraph('image_classifier', opset);
  g.nameTensors(model.stateDict());
  const { channels, height, width } = model.encoder.options;
  const images = g.input('images', 'float32', ['batch', channels, height, width]);
  g.output(linear(g, imageEncoder(g, model.encoder, images), model.head), 'logits', 'float32', ['batch', model.head.outFeatures]); // (B, labels)
  return g;
}

/** Token vectors · sqrt(dModel) + positions from `offset` (seq2seq's embed). */
function seq2seqEmbed(g: OnnxGraph, m: Seq2SeqModel, table: 'src_embed' | 'tgt_embed', ids: string, offset: string | null): string {
  let x = g.op('Mul', [g.op('Gather', [g.param(m[table].weight), ids], { axis: 0 }), g.scalar(Math.sqrt(m.config.dModel))]);
  if (m.pos) x = addPositions(g, x, m.pos, offset);
  return x;
}

function seq2seqRope(m: Seq2SeqModel): RotaryEmbedding | null {
  const r = m.transformer.encoder.layers.items[0]?.self_attn.rope ?? null;
  return r instanceof RotaryEmbedding ? r : null;
}

function seq2seqEncoderGraph(m: Seq2SeqModel, opset: number): OnnxGraph {
  const g = new OnnxGraph('seq2seq_encoder', opset);
  g.nameTensors(m.stateDict());
  const src = g.input('src', 'int64', ['batch', 'source_sequence']);
  const pad = g.op('Cast', [g.input('src_key_padding_mask', 'int64', ['batch', 'source_sequence'])], { to: 9 });
  const memory = encoderStack(g, m.transformer.encoder, seq2seqEmbed(g, m, 'src_embed', src, null), { keyPad: pad, rope: seq2seqRope(m), maxLen: m.maxLen });
  g.output(memory, 'memory', 'float32', ['batch', 'source_sequence', m.config.dModel]);
  return g;
}

function seq2seqDecoderGraph(m: Seq2SeqModel, opset: number): OnnxGraph {
  const g = new OnnxGraph('seq2seq_decoder', opset);
  g.nameTensors(m.stateDict());
  const c = m.config;
  const hd = c.dModel / c.heads;
  const tgt = g.input('tgt', 'int64', ['batch', 'sequence']);
  const memory = g.input('memory', 'float32', ['batch', 'source_sequence', c.dModel]);
  const srcPad = g.op('Cast', [g.input('src_key_padding_mask', 'int64', ['batch', 'source_sequence'])], { to: 9 });
  const layers = m.transformer.decoder.layers.items;
  const { caches, offset } = cacheInputs(g, layers.length, c.heads, hd, c.attention === 'linear');
  let x = seq2seqEmbed(g, m, 'tgt_embed', tgt, offset);
  const rope = seq2seqRope(m);
  layers.forEach((layer, i) => {
    const r = decoderLayer(g, layer, x, memory, { ...caches[i], offset, rope, maxLen: m.maxLen }, { keyPad: srcPad });
    x = r.output;
    cacheOutputs(g, i, r, c.heads, hd);
  });
  if (m.transformer.decoder.norm) x = layerNorm(g, x, m.transformer.decoder.norm);
  g.output(linear(g, x, m.output), 'logits', 'float32', ['batch', 'sequence', m.tgtVocab]);
  g.outputs.unshift(g.outputs.pop()!); // logits first
  return g;
}
