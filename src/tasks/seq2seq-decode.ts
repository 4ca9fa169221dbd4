// Decoding a Seq2SeqModel incrementally: the source is encoded once; each step runs the decoder
// on the newest token only, with one cache per decoder layer holding the keys and values of
// the tokens before it (a KVCache; linear attention keeps its constant-size state instead).
// Greedy decoding runs a whole batch of sources at once; beam search runs one source at a
// time with its live hypotheses as the batch, reordering the caches when hypotheses fork.
import { tensor } from '../ops/creation.js';
import { indexSelect } from '../ops/embedding.js';
import { logSoftmax } from '../ops/softmax.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { beamSearching } from '../decode/search.js';
import type { TypedArray } from '../core/dtype.js';
import { readNow, type Reading } from '../ops/reads.js';
import type { Seq2SeqModel } from '../nn/models/seq2seq.js';

/** Sequences of ids padded with 0 into (B, T), and the mask (1 = padding). */
export function padIds(seqs: readonly ArrayLike<number>[]): { ids: Tensor; pad: Tensor } {
  const B = seqs.length;
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T);
  const pad = new Int32Array(B * T).fill(1);
  seqs.forEach((s, b) => {
    ids.set(s, b * T);
    pad.fill(0, b * T, b * T + s.length);
  });
  return { ids: tensor(ids, { shape: [B, T] }), pad: tensor(pad, { shape: [B, T] }) };
}

export interface GenerationIds {
  bos: number;
  eos: number;
  /** Ids never generated (<pad>, <bos>). */
  banned: readonly number[];
}

/** Log-probabilities (n, 1, V) of the next token from the decoder's logits (n, 1, V), as a tensor to read. */
const logProbs = (logits: Tensor): Tensor => logSoftmax(logits, -1);

/** The read log-probabilities as n rows of V, banned ids at -Infinity. */
function rowsOf(lp: TypedArray, n: number, V: number, banned: readonly number[]): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let b = 0; b < n; b++) {
    const row = Float32Array.from(lp.subarray(b * V, (b + 1) * V));
    for (const id of banned) row[id] = -Infinity;
    rows.push(row);
  }
  return rows;
}

/** The source encoded once: its padding mask and the encoder's output (freed by the caller). */
function encoded(model: Seq2SeqModel, sources: readonly ArrayLike<number>[]): { pad: Tensor; memory: Tensor } {
  return tidy(() => noGrad(() => {
    const { ids, pad } = padIds(sources);
    return { pad, memory: model.encode(ids, pad) };
  }));
}

/**
 * Greedy decoding of a batch of sources (ids without <bos>/<eos>), all at once: at each step
 * the most probable next token (the first on ties) of every unfinished sequence. Sequence b
 * stops at <eos> (not returned) or after maxLens[b] tokens.
 */
export function greedyBatch(model: Seq2SeqModel, sources: readonly ArrayLike<number>[], maxLens: readonly number[], g: GenerationIds): number[][] {
  return readNow(greedyBatching(model, sources, maxLens, g));
}

/** greedyBatch, reading each step's log-probabilities (ops/reads.ts: any backend). */
export function* greedyBatching(model: Seq2SeqModel, sources: readonly ArrayLike<number>[], maxLens: readonly number[], g: GenerationIds): Reading<number[][]> {
  const B = sources.length;
  const out: number[][] = sources.map(() => []);
  if (!B) return out;
  const { pad, memory } = encoded(model, sources);
  const caches = model.makeCaches(B);
  const prev = new Int32Array(B).fill(g.bos);
  const done = maxLens.map((n) => n <= 0);
  const steps = Math.min(Math.max(0, ...maxLens), model.maxLen);
  try {
    for (let t = 0; t < steps && done.includes(false); t++) {
      const lp = tidy(() => noGrad(() => logProbs(model.decode(tensor(prev, { shape: [B, 1] }), memory, { srcPad: pad, caches, offset: t }))));
      const V = lp.shape[2]!;
      const rows = rowsOf(yield lp, B, V, g.banned);
      rows.forEach((row, b) => {
        let best = 0;
        for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
        prev[b] = best;
        if (done[b]) return;
        if (best === g.eos) done[b] = true;
        else if (out[b]!.push(best) >= maxLens[b]!) done[b] = true;
      });
    }
  } finally {
    for (const c of caches) c.dispose();
    pad.dispose();
    memory.dispose();
  }
  return out;
}

/**
 * Beam search (./decode/search.ts) over one source, incrementally: the live hypotheses are the
 * batch, and the caches follow them (reordered by parent) from step to step. Returns the best
 * hypothesis's tokens (without <bos>/<eos>).
 */
export function beamDecode(model: Seq2SeqModel, source: ArrayLike<number>, maxLen: number, beamSize: number, g: GenerationIds): number[] {
  return readNow(beamDecoding(model, source, maxLen, beamSize, g));
}

/** beamDecode, reading each step's log-probabilities (ops/reads.ts: any backend). */
export function* beamDecoding(model: Seq2SeqModel, source: ArrayLike<number>, maxLen: number, beamSize: number, g: GenerationIds): Reading<number[]> {
  const { pad, memory } = encoded(model, [source]);
  const caches = model.makeCaches(1);
  let parents = new Map<string, number>();
  try {
    const hyps = yield* beamSearching(function* (prefixes) {
      const t = prefixes[0]!.length - 1;
      if (t > 0) {
        const index = prefixes.map((p) => parents.get(p.slice(0, -1).join(','))!);
        for (const c of caches) c.reorder(index);
      }
      const n = prefixes.length;
      const lp = tidy(() => noGrad(() => {
        const same = new Int32Array(n); // every hypothesis reads the one source
        const last = tensor(Int32Array.from(prefixes, (p) => p[p.length - 1]!), { shape: [n, 1] });
        return logProbs(model.decode(last, indexSelect(memory, same), { srcPad: indexSelect(pad, same), caches, offset: t }));
      }));
      parents = new Map(prefixes.map((p, i) => [p.join(','), i]));
      const V = lp.shape[2]!;
      return rowsOf(yield lp, n, V, g.banned);
    }, { bos: g.bos, eos: g.eos, maxLen: Math.min(maxLen, model.maxLen), beamSize });
    return hyps[0]?.tokens ?? [];
  } finally {
    for (const c of caches) c.dispose();
    pad.dispose();
    memory.dispose();
  }
}
