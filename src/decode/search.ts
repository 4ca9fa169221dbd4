// Greedy decoding and beam search over any model that can score the next token: the model is
// a `step` function from a batch of prefixes to next-token log-probabilities, so the same
// search drives a GPT, an encoder-decoder Transformer (with the source bound in the closure)
// or a hand-made table in a test.

import { OpError } from '../core/errors.js';
import { readNow, type Reading } from '../ops/reads.js';

/**
 * Scores the next token for each prefix: returns one array of log-probabilities over the
 * vocabulary per prefix, in order. Every prefix starts with `bos`. All arrays must have the same
 * length (the vocabulary size). Values must be log-probabilities (<= 0), e.g. logSoftmax of
 * the model's last logits; -Infinity forbids a token.
 */
export type StepFn = (prefixes: number[][]) => ArrayLike<number>[];

/** A StepFn that reads its rows from tensors (ops/reads.ts), so one search runs on any backend. */
export type StepReading = (prefixes: number[][]) => Reading<ArrayLike<number>[]>;

export interface DecodeOptions {
  /** The token every prefix starts with (not part of the returned tokens). */
  bos: number;
  /** The token that ends a hypothesis (not part of the returned tokens). */
  eos: number;
  /** The most tokens generated after bos, eos included: at most maxLen calls of `step`. */
  maxLen: number;
}

export interface DecodeResult {
  /** The generated tokens, without bos and without the final eos. */
  tokens: number[];
  /** Σ log p of every generated token, eos included when it was generated. */
  logProb: number;
  /** True when the hypothesis ended with eos, false when it stopped at maxLen. */
  finished: boolean;
}

export interface BeamHypothesis extends DecodeResult {
  /** The ranking score: logProb / len^lengthPenalty, len = tokens generated (eos included). */
  score: number;
}

export interface BeamSearchOptions extends DecodeOptions {
  /** How many hypotheses are kept (an integer >= 1); 1 gives exactly greedy decoding. */
  beamSize: number;
  /**
   * Exponent α of the length normalisation score = logProb / len^α, len = generated tokens
   * including eos (simple length normalisation, as Hugging Face's length_penalty; not GNMT's
   * ((5 + len) / 6)^α). Default 1: the mean log-probability per token. 0 ranks by raw logProb,
   * which favours short outputs; larger values favour longer ones.
   */
  lengthPenalty?: number;
  /**
   * Stop as soon as no live hypothesis can end with a better score than the best finished one
   * (log-probabilities are <= 0, so a live logProb only falls; the bound takes the length
   * within maxLen that favours it most). The best hypothesis is the same either way; only the
   * lower-ranked ones, and the number of step calls, can differ. Default false: run until every
   * beam slot has finished or maxLen is reached.
   */
  earlyStopping?: boolean;
}

function checkCommon(op: string, o: DecodeOptions): void {
  for (const key of ['bos', 'eos'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) throw new OpError(op, `${key} must be a token id (an integer >= 0), got ${o[key]}`);
  }
  if (!Number.isInteger(o.maxLen) || o.maxLen < 0) throw new OpError(op, `maxLen must be an integer >= 0, got ${o.maxLen}`);
}

function* callStep(op: string, step: StepReading, prefixes: number[][], vocab: number): Reading<{ rows: ArrayLike<number>[]; vocab: number }> {
  const rows = yield* step(prefixes.map((p) => [...p]));
  if (!Array.isArray(rows) || rows.length !== prefixes.length) {
    throw new OpError(op, `step returned ${Array.isArray(rows) ? rows.length : typeof rows} rows for ${prefixes.length} prefixes; it must return one row of log-probabilities per prefix`);
  }
  let v = vocab;
  for (let i = 0; i < rows.length; i++) {
    const n = rows[i]?.length;
    if (typeof n !== 'number' || n === 0) throw new OpError(op, `step returned an empty or missing row ${i}`);
    if (v < 0) v = n;
    else if (n !== v) throw new OpError(op, `step returned a row of ${n} log-probabilities, but the vocabulary has ${v} tokens`);
  }
  return { rows, vocab: v };
}

/**
 * Greedy decoding: from [bos], append the most probable next token (the first on ties) until
 * eos or maxLen tokens. One `step` call with one prefix per token.
 */
export function greedyDecode(step: StepFn, options: DecodeOptions): DecodeResult {
  checkCommon('greedyDecode', options);
  const { bos, eos, maxLen } = options;
  const prefix = [bos];
  let logProb = 0;
  let vocab = -1;
  for (let t = 0; t < maxLen; t++) {
    const out = readNow(callStep('greedyDecode', hostStep(step), [prefix], vocab));
    vocab = out.vocab;
    const row = out.rows[0]!;
    let best = -1;
    for (let v = 0; v < row.length; v++) {
      if (Number.isNaN(row[v]!)) throw new OpError('greedyDecode', `step returned NaN for token ${v}`);
      if (row[v]! !== -Infinity && (best < 0 || row[v]! > row[best]!)) best = v;
    }
    if (best < 0) throw new OpError('greedyDecode', `every token has log-probability -Infinity after prefix [${prefix.join(', ')}]`);
    logProb += row[best]!;
    if (best === eos) return { tokens: prefix.slice(1), logProb, finished: true };
    prefix.push(best);
  }
  return { tokens: prefix.slice(1), logProb, finished: false };
}

interface Candidate {
  beam: number;
  token: number;
  logProb: number;
}

/** Candidate a ranks before b: higher logProb, then lower beam index, then lower token id. */
const before = (a: Candidate, b: Candidate): boolean =>
  a.logProb > b.logProb || (a.logProb === b.logProb && (a.beam < b.beam || (a.beam === b.beam && a.token < b.token)));

/**
 * Beam search with a beam that shrinks as hypotheses finish.
 *
 * Start from the one live prefix [bos]. At each step, every live prefix is extended by every
 * token (score: its logProb + the token's log-probability) and the best `beamSize - finished`
 * extensions over all prefixes are kept (ties: lower beam index, then lower token id). An
 * extension by eos is finished and leaves the beam; the others are the live prefixes of the next
 * step. The search ends when `beamSize` hypotheses have finished, at maxLen (live prefixes are
 * kept as unfinished hypotheses), or, with `earlyStopping`, when no live prefix can beat the best
 * finished one. Since every step keeps the best extensions and beamSize = 1 keeps exactly one,
 * beamSize = 1 is greedy decoding (same tokens, same logProb).
 *
 * Within a step all extensions have the same length, so length normalisation cannot change
 * which are kept; it only ranks the returned hypotheses: score = logProb / len^lengthPenalty.
 * Returns up to `beamSize` hypotheses, best score first (ties: finished first, then the order in
 * which they were found).
 */
export function beamSearch(step: StepFn, options: BeamSearchOptions): BeamHypothesis[] {
  return readNow(beamSearching(hostStep(step), options));
}

/** A StepFn as a StepReading that reads nothing. */
const hostStep = (step: StepFn): StepReading => function* (prefixes) {
  return step(prefixes);
};

/** beamSearch over a step that reads tensors: run it with readNow or readLater (ops/reads.ts). */
export function* beamSearching(step: StepReading, options: BeamSearchOptions): Reading<BeamHypothesis[]> {
  const op = 'beamSearch';
  checkCommon(op, options);
  const { bos, eos, maxLen, beamSize, lengthPenalty = 1, earlyStopping = false } = options;
  if (!Number.isInteger(beamSize) || beamSize < 1) throw new OpError(op, `beamSize must be an integer >= 1, got ${beamSize}`);
  if (typeof lengthPenalty !== 'number' || !Number.isFinite(lengthPenalty)) throw new OpError(op, `lengthPenalty must be a finite number, got ${lengthPenalty}`);
  const norm = (logProb: number, len: number): number => (len > 0 ? logProb / Math.pow(len, lengthPenalty) : logProb);
  // The best final score a live prefix of length len and logProb lp (<= 0) can still reach.
  const bound = (lp: number, len: number): number => Math.max(norm(lp, len + 1), norm(lp, maxLen));

  let live: { tokens: number[]; logProb: number }[] = [{ tokens: [bos], logProb: 0 }];
  const done: BeamHypothesis[] = [];
  let vocab = -1;
  for (let t = 1; t <= maxLen && live.length > 0; t++) {
    const out = yield* callStep(op, step, live.map((b) => b.tokens), vocab);
    vocab = out.vocab;
    const want = beamSize - done.length;
    // Keep the `want` best extensions in `best`, sorted best first (insertion into a short list).
    const best: Candidate[] = [];
    for (let b = 0; b < live.length; b++) {
      const row = out.rows[b]!;
      const base = live[b]!.logProb;
      for (let v = 0; v < row.length; v++) {
        const lp = row[v]!;
        if (Number.isNaN(lp)) throw new OpError(op, `step returned NaN for token ${v} after prefix [${live[b]!.tokens.join(', ')}]`);
        if (lp === -Infinity) continue;
        const c = { beam: b, token: v, logProb: base + lp };
        if (best.length === want && !before(c, best[want - 1]!)) continue;
        let i = best.length;
        while (i > 0 && before(c, best[i - 1]!)) i--;
        best.splice(i, 0, c);
        if (best.length > want) best.pop();
      }
    }
    if (best.length === 0) throw new OpError(op, `every token has log-probability -Infinity after every live prefix at step ${t}`);
    const next: typeof live = [];
    for (const c of best) {
      const tokens = live[c.beam]!.tokens;
      if (c.token === eos) done.push({ tokens: tokens.slice(1), logProb: c.logProb, finished: true, score: norm(c.logProb, t) });
      else next.push({ tokens: [...tokens, c.token], logProb: c.logProb });
    }
    live = next;
    if (earlyStopping && t < maxLen && done.length > 0 && live.length > 0) {
      const bestDone = Math.max(...done.map((h) => h.score));
      if (live.every((b) => bound(b.logProb, t) <= bestDone)) live = [];
    }
  }
  for (const b of live) done.push({ tokens: b.tokens.slice(1), logProb: b.logProb, finished: false, score: norm(b.logProb, b.tokens.length - 1) });
  // Stable sort: equal scores keep finished-before-unfinished and discovery order.
  return done.map((h, i) => ({ h, i })).sort((a, b) => b.h.score - a.h.score || a.i - b.i).map((x) => x.h).slice(0, beamSize);
}
