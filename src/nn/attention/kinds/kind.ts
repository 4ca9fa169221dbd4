// One place per attention kind (lecture §4 and §5: how relevance is computed and normalised).
// A kind says how it attends, how it decodes (a KV cache or a recurrent state) and which cache
// it keeps, which masks it honours, which parameters of its own it adds, and how the lecture's
// view writes it. MultiheadAttention, GPT, the Transformer layers, the seq2seq model, the ONNX
// exporter (whose lowerings, one per kind, live in io/onnx/attention-kinds.ts: nn sits below
// io), the visualizer and the CLI's choice lists all read these definitions, so a new kind is
// one definition that calls registerAttentionKind (test/nn/attention-kinds.test.ts registers a
// cosine kind; the README walks through it) plus, to export it, registerAttentionLowering.
import type { Generator } from '../../../core/rng.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { ModuleError } from '../../module.js';
import type { DecodingCache } from '../decoding-cache.js';
import type { AttentionMasks } from '../scaled-dot-product.js';

/** One attention call, heads already split (and rotated, with RoPE). */
export interface AttendCall extends AttentionMasks {
  /** (B, H, L, d) */
  q: Tensor;
  /** (B, H, S, d): this call's keys only; a cache adds the past ones. */
  k: Tensor;
  /** (B, H, S, dv) */
  v: Tensor;
  /** Query i sees keys j <= i + past only. */
  causal: boolean;
  /** Truncated attention: |i + past - j| <= window. */
  window: number | null;
  /** The decoding cache this kind made (makeCache), or null outside step-by-step decoding. */
  cache: DecodingCache | null;
  /** Return alpha' (B, H, L, S) when the kind can form it. */
  needWeights: boolean;
  /** Also return the scores alpha (B, H, L, S) after the masks (-Infinity where blocked), for inspection. */
  returnScores?: boolean;
  /** Dropout on alpha' (training only). */
  dropout: number;
  training: boolean;
  /** Draws the dropout mask; default: the default generator, whose state the Trainer saves and restores. */
  generator?: Generator;
  /** The kind's own parameters, as made by `params` (e.g. additive attention's w). */
  params: Readonly<Record<string, Tensor>>;
  /** The calling module, for error messages. */
  module: string;
}

export interface AttentionKindDef {
  readonly name: string;
  /** One line for --help and documentation. */
  readonly summary: string;
  /** What it can honour; the rest is refused (one clear error) before `attend` runs. */
  readonly honours: {
    /** Any (L, S)-shaped mask: graphs, float masks. */
    attnMask: boolean;
    /** Truncated attention. */
    window: boolean;
    keyPaddingMask: boolean;
    /** A key padding mask while decoding from a cache. */
    keyPaddingWhileDecoding: boolean;
  };
  /** Whether it can return alpha' at all (linear attention never forms it). */
  readonly weights: boolean;
  /**
   * How it decodes step by step: 'kv' appends each new position's keys and values to a cache
   * and attends over all of them; 'recurrent' folds them into a constant-size state (linear
   * attention's S and z), an RNN. Default 'kv'. The ONNX decoder graph and the visualizer read it.
   */
  readonly decoding?: Decoding;
  /**
   * How the lecture's step-by-step view writes alpha and alpha' (§4): relevance 'dot'
   * (q·k/√d) or 'additive' (w·tanh(q + k)), normaliser 'softmax' or 'relu'. Absent for a kind
   * the view has no formula for (it then shows the numbers without one).
   */
  readonly lecture?: { relevance: 'dot' | 'additive'; normalizer: 'softmax' | 'relu' };
  /** The kind torch.nn.MultiheadAttention, torch.nn.Transformer and nanoGPT compute (softmax only), so a model with it hands off to PyTorch. */
  readonly pytorch?: boolean;
  /** Parameters of its own per attention module, by name (registered under these names). */
  params?(heads: number, headDim: number, g: Generator): Record<string, Tensor>;
  /** An empty decoding cache for `batch` sequences of `heads` heads of key size dk and value size dv. */
  makeCache(batch: number, heads: number, dk: number, dv: number): DecodingCache;
  /** b (B, H, L, dv), alpha' (B, H, L, S) or null; see AttendResult. */
  attend(call: AttendCall): AttendResult;
}

export interface AttendResult {
  /** (B, H, L, dv) */
  b: Tensor;
  /** (B, H, L, S), or null when not asked for or never formed. */
  alphaPrime: Tensor | null;
  /** The scores after the masks, with returnScores (kinds that form them). */
  alpha?: Tensor | null;
  /** The keys and values attended over when a cache added past positions (B, H, S, d). */
  k?: Tensor;
  v?: Tensor;
}

export type Decoding = 'kv' | 'recurrent';

/** How a kind decodes ('kv' unless it says 'recurrent'). */
export function decodingOf(def: AttentionKindDef): Decoding {
  return def.decoding ?? 'kv';
}

const kinds = new Map<string, AttentionKindDef>();
/** The names of every registered kind, in registration order (a live list: it grows with registerAttentionKind). */
export const ATTENTION_KINDS: readonly string[] = [];

/** Adds a kind (or replaces the one of the same name). */
export function registerAttentionKind(def: AttentionKindDef): AttentionKindDef {
  if (def.decoding !== undefined && def.decoding !== 'kv' && def.decoding !== 'recurrent') {
    throw new ModuleError('registerAttentionKind', `${def.name}: decoding must be 'kv' or 'recurrent', got ${JSON.stringify(def.decoding)}`);
  }
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new ModuleError('registerAttentionKind', `a kind's name must be lowercase letters, digits and '-', got "${def.name}"`);
  if (!kinds.has(def.name)) (ATTENTION_KINDS as string[]).push(def.name);
  kinds.set(def.name, def);
  return def;
}

/** The definition of a kind, or a clear error naming the known ones. */
export function attentionKind(name: string, module: string): AttentionKindDef {
  const def = kinds.get(name);
  if (!def) throw new ModuleError(module, `attention must be one of ${ATTENTION_KINDS.join(', ')}, got "${name}"`);
  return def;
}

/** Runs a kind after refusing what it cannot honour. */
export function attendWith(def: AttentionKindDef, call: AttendCall): AttendResult {
  const h = def.honours;
  const refuse = (what: string) => {
    throw new ModuleError(call.module, `${def.name} attention cannot honour ${what}`);
  };
  if (call.attnMask && !h.attnMask) refuse('an attention mask (graph or arbitrary); it supports causal and key padding only');
  if (call.window != null && !h.window) refuse('a window (truncated attention)');
  if (call.keyPaddingMask && !h.keyPaddingMask) refuse('a key padding mask');
  if (call.keyPaddingMask && call.cache && !h.keyPaddingWhileDecoding) refuse('a key padding mask while decoding');
  return def.attend(call);
}
