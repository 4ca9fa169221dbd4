// One place per attention kind (lecture §4 and §5: how relevance is computed and normalised).
// A kind says how it attends, which decoding cache it keeps, which masks it honours and which
// parameters of its own it adds. MultiheadAttention, GPT, the Transformer layers, the seq2seq
// model and the CLI's choice lists all read these definitions, so a new kind is one file that
// calls registerAttentionKind (see ./cosine.ts in the tests, and the README's walk-through).
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

const kinds = new Map<string, AttentionKindDef>();
/** The names of every registered kind, in registration order (a live list: it grows with registerAttentionKind). */
export const ATTENTION_KINDS: readonly string[] = [];

/** Adds a kind (or replaces the one of the same name). */
export function registerAttentionKind(def: AttentionKindDef): AttentionKindDef {
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
