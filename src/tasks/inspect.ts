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
import { classifyDriver, type ClassifyInstance } from './classify.js';
import { tagDriver, type TagModel } from './tag.js';
import type { LmInstance } from './lm.js';
import type { Seq2SeqInput, Seq2SeqInstance } from './seq2seq.js';
import { layerJSON } from './inspect/heads.js';
import { inspectLm } from './inspect/lm.js';
import { inspectSeq2Seq } from './inspect/seq2seq.js';

/** One head of one layer. Vectors are rows: q[i] is q^i. */
export interface HeadInspection {
  q: number[][]; k: number[][]; v: number[][];
  /** alpha[i][j]: relevance of j to query i after the masks; null where a mask blocks it. Null for linear attention. */
  alpha: (number | null)[][] | null;
  alphaPrime: number[][] | null;
  b: number[][];
  /** This head's rows of the input projection, (headDim, dModel), and biases (headDim). */
  Wq: number[][]; Wk: number[][]; Wv: number[][];
  bq: number[] | null; bk: number[] | null; bv: number[] | null;
  /** Additive attention: alpha = w · tanh(q + k). */
  w: number[] | null;
  /**
   * Linear attention as an RNN: the state after each position t, S[t] = Σ_{j<=t} φ(k^j) v^jᵀ
   * (headDim × headDim) and z[t] = Σ_{j<=t} φ(k^j), from LinearAttentionState; null otherwise.
   */
  state: { S: number[][][]; z: number[][] } | null;
}

export interface LayerInspection {
  /** The vectors the layer's attention read, (T, dModel) (after LayerNorm in a pre-LN model). */
  a: number[][];
  /** Cross-attention: the vectors the keys and values were made from (the encoder's output), (S, dModel); absent otherwise. */
  aKeys?: number[][];
  heads: HeadInspection[];
}

/** One more attention of a seq2seq model: its queries, its keys (when they are other positions) and its layers. */
export interface AttentionPart {
  name: 'decoder self-attention' | 'cross-attention';
  tokens: string[];
  keys: string[] | null;
  /** (T, S) */
  blocked: boolean[][];
  layers: LayerInspection[];
}

/** One head at one generation step: the new query over everything cached so far. */
export interface GenerationHead {
  q: number[];
  /** The keys and values this step appended to the cache, (n, headDim): the prompt's at step 0, one per step after. */
  k: number[][]; v: number[][];
  /** The query's scores and weights over the cache (position + 1 of them); null for linear attention. */
  alpha: number[] | null; alphaPrime: number[] | null;
  b: number[];
  /** Linear attention: its recurrent state after this step, S (headDim × headDim) and z; null otherwise. */
  state: { S: number[][]; z: number[] } | null;
}

/** A step of generation: the token at `position` is read (step 0: the whole prompt), the cache grows to position + 1, `next` is chosen. */
export interface GenerationStep {
  position: number;
  next: string;
  /** layers[layer][head] */
  layers: GenerationHead[][];
}

export interface GenerationInspection {
  /** The prompt's tokens, then the generated ones. */
  tokens: string[];
  /** Tokens in the prompt. */
  prompt: number;
  /** 'greedy', or the temperature and seed it was sampled with. */
  sampling: string;
  steps: GenerationStep[];
}

export interface ModelInspection {
  task: 'tag' | 'classify' | 'lm' | 'seq2seq';
  /** What a position is: a word, an audio frame, a graph node. */
  input: 'words' | 'frames' | 'graph';
  /** One label per position: the word as typed, or "frame i" / "node i" (lm: the prompt; seq2seq: the source). */
  tokens: string[];
  /** Key labels when keys are other positions than the queries (a cross-attention part the page shows); null here. */
  keys: string[] | null;
  /** Words the model never saw in training (read as <unk> plus their spelling). */
  unknown: boolean[];
  edges: [number, number][] | null;
  /** tag: a label per position; classify: one label; lm: the generated text; seq2seq: the output. */
  prediction: string[] | string;
  model: {
    kind: string; attention: string; pos: string; layers: number; heads: number; dModel: number; headDim: number;
    window: number | null; normFirst: boolean; scale: number;
  };
  /** blocked[i][j]: a mask keeps query i from key j (window, graph edges); the same in every layer and head. */
  blocked: boolean[][];
  layers: LayerInspection[];
  /** seq2seq: the decoder's self-attention and the cross-attention (the top level is the encoder's); null otherwise. */
  parts: AttentionPart[] | null;
  /** lm: generation step by step from the prompt with the decoding caches; null otherwise (and with maxNewTokens 0). */
  generation: GenerationInspection | null;
}

export type InspectableModel = TagModel | ClassifyInstance | LmInstance | Seq2SeqInstance;

/**
 * lm: new tokens (default 8; 0: the prompt's attention only, generation null), temperature
 * (default 0: greedy) and seed; seq2seq: maxNewTokens caps the output (default 2·|source| + 10),
 * and `target` (tokens split as the model's data) is teacher-forced instead of the greedy output.
 */
export interface InspectOptions { maxNewTokens?: number; temperature?: number; seed?: number; target?: string[] }

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
  if (!('embed' in m.model)) throw new QkvError('an image model is not shown yet: qkv viz takes word, frame and graph models');
  const model = m.model;
  const enc = model.encoder;
  if (!(enc instanceof AttentionEncoder)) throw new QkvError(`a ${m.config.model.kind} model has no attention to look at (train with --model transformer)`);
  const T = (input.tokens ?? input.frames ?? []).length;
  if (T === 0) throw new QkvError('the input is empty: type at least one word (or give at least one frame)');
  const task = m.config.task;
  const prediction = predictOne(m, input);
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
    tokens: input.tokens ?? input.frames!.map((_, i) => `${input.edges ? 'node' : 'frame'} ${i}`), keys: null,
    unknown: input.tokens ? input.tokens.map((w) => !words!.has(w)) : new Array<boolean>(T).fill(false),
    edges: input.edges ?? null,
    prediction,
    model: {
      kind: m.config.model.kind, attention: attn.attention, pos: m.config.model.pos, layers: enc.encoder.layers.length, heads: H, dModel: E, headDim: hd,
      window: enc.window, normFirst: firstLayer.normFirst, scale: 1 / Math.sqrt(hd),
    },
    blocked, layers, parts: null, generation: null,
  };
}

function predictOne(m: TagModel | ClassifyInstance, input: SequenceInput): string[] | string {
  return m.config.task === 'tag' ? tagDriver.predict(m as TagModel, [input])[0]! : classifyDriver.predict(m as ClassifyInstance, [input])[0]!;
}
