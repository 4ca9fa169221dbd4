// Everything the visualizer shows, for one input to a trained tag or classify model: per layer
// the vectors a^i its attention read, and per head W^q, W^k, W^v (this head's rows), q, k, v,
// alpha (scores after masks; null = blocked), alpha' and b — the lecture's names, as plain
// JSON numbers. The page draws exactly these; the browser test compares the DOM to them.
import { QkvError } from '../core/errors.js';
import type { SequenceInput } from '../data/types.js';
import { AttentionEncoder } from '../nn/transformer/attention-encoder.js';
import type { MultiheadAttention } from '../nn/attention/multihead.js';
import type { LayerIntermediates } from '../nn/transformer/layers.js';
import { LinearAttentionState } from '../nn/attention/linear-attention-state.js';
import { slice } from '../ops/views.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { classifyDriver, type ClassifyInstance } from './classify.js';
import { tagDriver, type TagModel } from './tag.js';

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
  heads: HeadInspection[];
}

export interface ModelInspection {
  task: 'tag' | 'classify';
  /** What a position is: a word, an audio frame, a graph node. */
  input: 'words' | 'frames' | 'graph';
  /** One label per position: the word as typed, or "frame i" / "node i". */
  tokens: string[];
  /** Words the model never saw in training (read as <unk> plus their spelling). */
  unknown: boolean[];
  edges: [number, number][] | null;
  /** tag: a label per position; classify: one label. */
  prediction: string[] | string;
  model: {
    kind: string; attention: string; pos: string; layers: number; heads: number; dModel: number; headDim: number;
    window: number | null; normFirst: boolean; scale: number;
  };
  /** blocked[i][j]: a mask keeps query i from key j (window, graph edges); the same in every layer and head. */
  blocked: boolean[][];
  layers: LayerInspection[];
}

export type InspectableModel = TagModel | ClassifyInstance;

const rows = (t: Tensor): number[][] => t.toArray() as number[][];

/** Runs the model on one input and returns every intermediate of every layer and head. */
export function inspectModel(m: InspectableModel, input: SequenceInput): ModelInspection {
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
    return r.layers.map((l, li) => layerJSON(l, enc.encoder.layers.at(li).self_attn, H, hd, E));
  }));
  const alpha0 = layers[0]!.heads[0]!.alpha;
  const blocked = alpha0 ? alpha0.map((row) => row.map((x) => x === null)) : Array.from({ length: T }, () => new Array<boolean>(T).fill(false));
  const words = m.featurizer.words;
  return {
    task, input: input.edges ? 'graph' : input.frames ? 'frames' : 'words',
    tokens: input.tokens ?? input.frames!.map((_, i) => `${input.edges ? 'node' : 'frame'} ${i}`),
    unknown: input.tokens ? input.tokens.map((w) => !words!.has(w)) : new Array<boolean>(T).fill(false),
    edges: input.edges ?? null,
    prediction,
    model: {
      kind: m.config.model.kind, attention: attn.attention, pos: m.config.model.pos, layers: enc.encoder.layers.length, heads: H, dModel: E, headDim: hd,
      window: enc.window, normFirst: firstLayer.normFirst, scale: 1 / Math.sqrt(hd),
    },
    blocked, layers,
  };
}

function predictOne(m: InspectableModel, input: SequenceInput): string[] | string {
  return m.config.task === 'tag' ? tagDriver.predict(m as TagModel, [input])[0]! : classifyDriver.predict(m as ClassifyInstance, [input])[0]!;
}

function layerJSON(l: LayerIntermediates, self_attn: MultiheadAttention, H: number, hd: number, E: number): LayerInspection {
  const W = self_attn.in_proj_weight;
  const bias = self_attn.in_proj_bias;
  const headRows = (part: number, h: number): number[][] => (W ? rows(slice(W, 0, part * E + h * hd, part * E + (h + 1) * hd)) : []);
  const headBias = (part: number, h: number): number[] | null => (bias ? slice(bias, 0, part * E + h * hd, part * E + (h + 1) * hd).toArray() as number[] : null);
  const perHead = (t: Tensor | null, h: number): number[][] | null => (t ? rows(t.select(0, 0).select(0, h)) : null);
  const states = l.alpha ? null : runningState(l, H, hd);
  const heads: HeadInspection[] = [];
  for (let h = 0; h < H; h++) {
    const alpha = perHead(l.alpha, h)?.map((row) => row.map((x) => (x === -Infinity ? null : x))) ?? null;
    heads.push({
      q: perHead(l.q, h)!, k: perHead(l.k, h)!, v: perHead(l.v, h)!, alpha, alphaPrime: perHead(l.alphaPrime, h), b: perHead(l.b, h)!,
      Wq: headRows(0, h), Wk: headRows(1, h), Wv: headRows(2, h), bq: headBias(0, h), bk: headBias(1, h), bv: headBias(2, h),
      w: self_attn.additive_w ? self_attn.additive_w.select(0, h).toArray() as number[] : null,
      state: states ? { S: states.map((st) => st.S[h]!), z: states.map((st) => st.z[h]!) } : null,
    });
  }
  return { a: rows(l.a.select(0, 0)), heads };
}

/** Feeds the layer's k and v through a LinearAttentionState one position at a time: (S, z) per head after each. */
function runningState(l: LayerIntermediates, H: number, hd: number): { S: number[][][]; z: number[][] }[] {
  const state = new LinearAttentionState(1, H, hd, hd);
  try {
    const T = l.k.shape[2]!;
    const out: { S: number[][][]; z: number[][] }[] = [];
    for (let t = 0; t < T; t++) {
      state.step(l.q.select(2, t), l.k.select(2, t), l.v.select(2, t)).dispose(); // q, k, v^t: (1, H, hd)
      out.push({ S: (state.S.toArray() as number[][][][])[0]!, z: (state.z.toArray() as number[][][])[0]! });
    }
    return out;
  } finally {
    state.dispose();
  }
}
