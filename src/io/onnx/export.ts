// exportOnnx: every model qkv trains as ONNX graphs with their vocabularies, labels and task in
// metadata_props, so ONNX Runtime can use them without qkv.
//   lm (GPT):      model = idx -> logits; decoder = the same with a KV cache (or linear attention's state)
//   tag, classify: model = ids (+ chars, word_index) or frames, key_padding_mask -> logits
//   seq2seq:       model = the encoder, src -> memory; decoder = one decoder call on a KV cache
//   classify (images): model = images (B, C, H, W), normalised as metadata `preprocessing` says -> logits
import { QkvError } from '../../core/errors.js';
import { describePreprocessing, type ImageFrontEnd } from '../../data/image/pixels.js';
import { GPT } from '../../nn/models/gpt.js';
import { ImageClassifier, SequenceClassifier, SequenceTagger } from '../../nn/models/taggers.js';
import { Seq2SeqModel } from '../../nn/models/seq2seq.js';
import type { Module } from '../../nn/module.js';
import { cacheDescription, recurrent } from './cache.js';
import { gptGraph } from './gpt.js';
import { ONNX_OPSETS, DEFAULT_OPSET, type OnnxGraph } from './graph.js';
import { seq2seqDecoderGraph, seq2seqEncoderGraph } from './seq2seq.js';
import { imageModelGraph, sequenceModelGraph } from './taggers.js';
import { hfGraphs } from './hf.js';
import { BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, ViTForImageClassification, WhisperForConditionalGeneration, hfConfigJson, type HfModel } from '../../nn/models/hf/index.js';

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

/** A task's model with its config.json (a TaskInstance, as a loaded checkpoint gives): the config's vocabularies, labels and task go into the metadata. */
export interface ExportableInstance {
  readonly config: { task: string } & Record<string, unknown>;
  readonly model: Module;
}

type Exportable = ExportableInstance | GPT | SequenceTagger | SequenceClassifier | ImageClassifier | Seq2SeqModel | HfModel;

const isHf = (m: unknown): m is HfModel => m instanceof GPT2LMHeadModel || m instanceof BertForTokenClassification || m instanceof BertForSequenceClassification
  || m instanceof ViTForImageClassification || m instanceof WhisperForConditionalGeneration;

/** The ONNX graphs of a model or a task instance (a loaded checkpoint). Throws one line naming what cannot be exported. */
export function exportOnnx(target: Exportable, options: OnnxExportOptions = {}): OnnxFile[] {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(ONNX_OPSETS as readonly number[]).includes(opset)) throw new QkvError(`exportOnnx: opset must be one of ${ONNX_OPSETS.join(', ')}, got ${opset}`);
  if (isHf(target)) { // a Hugging Face model: its config.json (labels, sizes) goes into the metadata
    const meta = { architecture: target.architecture, hf_config: JSON.stringify(hfConfigJson(target)) };
    return hfGraphs(target, opset).map((x) => file(x.role, x.graph, { ...meta, graph: x.role }, x.what));
  }
  const instance = isInstance(target) ? target : null;
  const model = instance ? instance.model : target;
  const meta: Record<string, string> = instance ? metadataOf(instance) : {};
  if (model instanceof GPT) {
    meta.task ??= 'lm';
    meta.gpt_config = JSON.stringify(model.config);
    return [
      file('model', gptGraph(model, 'forward', opset), { ...meta, graph: 'forward' }, 'GPT forward: idx -> logits'),
      file('decoder', gptGraph(model, 'decoder', opset), { ...meta, graph: 'decoder' }, `GPT decoder with ${cacheDescription(model.config.attention)}`),
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
      file('decoder', seq2seqDecoderGraph(model, opset), { ...meta, graph: 'decoder' }, `seq2seq decoder step with ${recurrent(model.config.attention) ? 'recurrent state (S, z)' : 'a KV cache'}`),
    ];
  }
  throw new QkvError(`exportOnnx: ${(model as object)?.constructor?.name ?? String(model)} has no ONNX export`);
}

function isInstance(t: Exportable): t is ExportableInstance {
  return typeof (t as ExportableInstance).config === 'object' && 'model' in t && !(t instanceof GPT);
}

/** Vocabulary, labels and task of a task instance, as strings. */
function metadataOf(instance: ExportableInstance): Record<string, string> {
  const c = instance.config as Record<string, unknown>;
  const meta: Record<string, string> = { task: String(c.task) };
  for (const key of ['labels', 'featurizer', 'vocab', 'tokenize', 'source', 'target', 'model']) {
    if (c[key] !== undefined) meta[key] = typeof c[key] === 'string' ? (c[key] as string) : JSON.stringify(c[key]);
  }
  return meta;
}
