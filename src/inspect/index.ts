// Everything the visualizer shows, for one input to a trained model: per layer the vectors a^i
// its attention read, and per head W^q, W^k, W^v (this head's rows), q, k, v, alpha (scores
// after masks; null = blocked), alpha' and b — the lecture's names, as plain JSON numbers. The
// page draws exactly these; the browser test compares the DOM to them. Tag and classify models
// are read here; a GPT (prompt and generation step by step) in inspect/lm.ts, an encoder-decoder
// (encoder, decoder and cross-attention) in inspect/seq2seq.ts.
import { QkvError } from '../core/errors.js';
import type { SequenceInput } from '../data/types.js';
import { AttentionEncoder } from '../nn/transformer/attention-encoder.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { classifyDriver, type ClassifyInstance } from '../tasks/classify.js';
import { tagDriver, type TagModel } from '../tasks/tag.js';
import type { LmInstance } from '../tasks/lm.js';
import type { Seq2SeqInput, Seq2SeqInstance } from '../tasks/seq2seq.js';
import { kindInfo, layerJSON } from './heads.js';
import { inspectImage } from './image.js';
import { inspectLm } from './lm.js';
import { inspectSeq2Seq } from './seq2seq.js';
import type { InspectOptions, ModelInspection } from './wire.js';

export type { AttentionPart, GenerationHead, GenerationInspection, GenerationStep, HeadInspection, ImageView, InspectOptions, LayerInspection, ModelInfo, ModelInspection, WatchPart, WatchRecord } from './wire.js';

export type InspectableModel = TagModel | ClassifyInstance | LmInstance | Seq2SeqInstance;


/**
 * Runs the model on one input and returns every intermediate of every layer and head: a
 * SequenceInput for tag and classify models, the prompt text for a language model, the source
 * tokens for a seq2seq model.
 */
export function inspectModel(m: InspectableModel, input: SequenceInput | Seq2SeqInput | string, options: InspectOptions = {}): ModelInspection {
  if (m.config.task === 'lm') return inspectLm(m as LmInstance, input as string, options);
  if (m.config.task === 'seq2seq') return inspectSeq2Seq(m as Seq2SeqInstance, input as Seq2SeqInput, options);
  return inspectEncoder(m as TagModel | ClassifyInstance, input as SequenceInput);
}

function inspectEncoder(m: TagModel | ClassifyInstance, input: SequenceInput): ModelInspection {
  if (!('embed' in m.model)) return inspectImage(m as ClassifyInstance, input);
  const model = m.model;
  const enc = model.encoder;
  if (!(enc instanceof AttentionEncoder)) throw new QkvError(`a ${m.config.model.kind} model has no attention to look at (train with --model transformer)`);
  // a BPE model's positions are subword pieces: the page shows the pieces, each word's label on its first piece
  const pieces = m.featurizer.bpe && input.tokens ? m.featurizer.bpe.encodeWords(input.tokens) : null;
  const T = pieces ? pieces.reduce((a, p) => a + p.length, 0) : (input.tokens ?? input.frames ?? []).length;
  if (T === 0) throw new QkvError('the input is empty: type at least one word (or give at least one frame)');
  const task = m.config.task;
  const predicted = predictOne(m, input);
  const prediction = pieces && Array.isArray(predicted) ? pieces.flatMap((p, w) => Array.from(p, (_, k) => (k === 0 ? predicted[w]! : ''))) : predicted;
  const firstLayer = enc.encoder.layers.at(0);
  const E = enc.outDim;
  const H = firstLayer.nhead;
  const hd = E / H;
  const attn = firstLayer.self_attn;
  const layers = tidy(() => noGrad(() => {
    const batch = m.featurizer.batch([input]);
    const a = model.embed.forward(batch); // a^i, (1, T, inDim)
    const r = enc.inspect(a, { keyPaddingMask: batch.keyPaddingMask, attnMask: batch.attnMask ?? null, returnIntermediates: true });
    return r.layers.map((l, li) => {
      const sa = enc.encoder.layers.at(li).self_attn;
      return layerJSON(l, { W: sa.in_proj_weight, bias: sa.in_proj_bias, w: sa.additive_w }, H, hd, E);
    });
  }));
  const alpha0 = layers[0]!.heads[0]!.alpha;
  const blocked = alpha0 ? alpha0.map((row) => row.map((x) => x === null)) : Array.from({ length: T }, () => new Array<boolean>(T).fill(false));
  const words = m.featurizer.words;
  return {
    task, input: input.edges ? 'graph' : input.frames ? 'frames' : 'words',
    tokens: pieces ? pieces.flatMap((p) => Array.from(p, (id) => m.featurizer.bpe!.decode([id]))) : input.tokens ?? input.frames!.map((_, i) => `${input.edges ? 'node' : 'frame'} ${i + 1}`),
    keys: null,
    // nothing is unknown to byte-level BPE
    unknown: input.tokens && words ? input.tokens.map((w) => !words.has(w)) : new Array<boolean>(T).fill(false),
    edges: input.edges ?? null,
    prediction,
    model: {
      kind: m.config.model.kind, attention: attn.attention, pos: m.config.model.pos, layers: enc.encoder.layers.length, heads: H, dModel: E, headDim: hd,
      window: enc.window, normFirst: firstLayer.normFirst, scale: 1 / Math.sqrt(hd), ...kindInfo(attn.attention),
    },
    blocked, layers, parts: null, generation: null,
    ...(input.frames && !input.edges ? { frames: input.frames } : {}),
  };
}

function predictOne(m: TagModel | ClassifyInstance, input: SequenceInput): string[] | string {
  return m.config.task === 'tag' ? tagDriver.predict(m as TagModel, [input])[0]! : classifyDriver.predict(m as ClassifyInstance, [input])[0]!;
}
