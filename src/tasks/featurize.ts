// From examples to padded batches: word ids (+ character ids per word), or real-valued frames;
// a key padding mask (1 = padding); and, for graphs, an attention mask that lets each node
// look at itself and its neighbours only (lecture §4: self-attention as a graph network).
import type { Generator } from '../core/rng.js';
import { QkvError } from '../core/errors.js';
import type { SequenceInput } from '../data/types.js';
import { Vocab, type VocabJSON } from '../data/vocab.js';
import { tensor } from '../ops/creation.js';
import type { InputBatch, InputConfig } from './models.js';

export const MAX_WORD_CHARS = 16;

export type FeaturizerJSON =
  | { kind: 'tokens'; words: VocabJSON; chars: VocabJSON | null }
  | { kind: 'frames'; frameDim: number };

export class Featurizer {
  private constructor(
    readonly words: Vocab | null,
    readonly chars: Vocab | null,
    readonly frameDim: number,
  ) {}

  /** Vocabularies from the training examples (tokens), or the frame size (frames). */
  static fromExamples(examples: readonly SequenceInput[], options: { chars?: boolean; minFreq?: number } = {}): Featurizer {
    const first = examples[0];
    if (!first) throw new QkvError('no training examples');
    if (first.frames) return new Featurizer(null, null, first.frames[0]?.length ?? 0);
    const tokens = examples.map((e) => e.tokens ?? []);
    const words = Vocab.build(tokens, { minFreq: options.minFreq ?? 1 });
    const chars = options.chars === false ? null : Vocab.build(tokens.flat().map((w) => [...w]));
    return new Featurizer(words, chars, 0);
  }

  static fromJSON(json: FeaturizerJSON): Featurizer {
    if (json.kind === 'frames') return new Featurizer(null, null, json.frameDim);
    return new Featurizer(Vocab.fromJSON(json.words), json.chars ? Vocab.fromJSON(json.chars) : null, 0);
  }

  toJSON(): FeaturizerJSON {
    return this.words ? { kind: 'tokens', words: this.words.toJSON(), chars: this.chars?.toJSON() ?? null } : { kind: 'frames', frameDim: this.frameDim };
  }

  inputConfig(): InputConfig {
    return this.words ? { kind: 'tokens', vocabSize: this.words.size, charVocabSize: this.chars?.size ?? 0 } : { kind: 'frames', frameDim: this.frameDim };
  }

  /** Checks an example has the kind of input this model reads. */
  private check(e: SequenceInput, i: number): number {
    const where = (e as { origin?: { file: string; line: number } }).origin;
    const at = where ? `${where.file}:${where.line}: ` : `example ${i}: `;
    if (this.words && !e.tokens) throw new QkvError(`${at}this model reads words, but the example has frames`);
    if (!this.words && !e.frames) throw new QkvError(`${at}this model reads ${this.frameDim}-dim frames, but the example has words`);
    const seq = (e.tokens ?? e.frames)!;
    if (!Array.isArray(seq) || seq.length === 0) throw new QkvError(`${at}the example is empty (no ${this.words ? 'words' : 'frames'})`);
    if (e.frames) {
      e.frames.forEach((f, t) => {
        if (!Array.isArray(f) || f.length !== this.frameDim) {
          throw new QkvError(`${at}frame ${t} has ${Array.isArray(f) ? f.length : 'no'} values, but the model reads ${this.frameDim}`);
        }
        for (const x of f) if (typeof x !== 'number' || !Number.isFinite(x)) throw new QkvError(`${at}frame ${t} has a value that is not a finite number: ${JSON.stringify(x)}`);
      });
    } else if (!e.tokens!.every((w) => typeof w === 'string')) throw new QkvError(`${at}every word must be a string`);
    // every index the batch writes is bounds-checked: an edge outside this example would block or
    // open attention in the next example's rows
    for (const [i, edge] of (e.edges ?? []).entries()) {
      if (!Array.isArray(edge) || edge.length !== 2 || !edge.every((x) => Number.isInteger(x) && x >= 0 && x < seq.length)) {
        throw new QkvError(`${at}edge ${i} ${JSON.stringify(edge)} is not a pair of node indices in 0..${seq.length - 1}`);
      }
    }
    return seq.length;
  }

  /**
   * Pads a batch to its longest sequence. In training, `wordDropout` replaces words by <unk>
   * at that rate (drawn from `g`), so the <unk> vector and the character CNN learn to cover
   * words never seen in training.
   */
  batch(examples: readonly SequenceInput[], options: { wordDropout?: number; g?: Generator } = {}): InputBatch & { lengths: number[] } {
    const lengths = examples.map((e, i) => this.check(e, i));
    const B = examples.length;
    const T = Math.max(1, ...lengths);
    const pad = new Int32Array(B * T).fill(1);
    examples.forEach((_, b) => pad.fill(0, b * T, b * T + lengths[b]!));
    const keyPaddingMask = tensor(pad, { shape: [B, T] });
    const out: InputBatch & { lengths: number[] } = { keyPaddingMask, lengths };
    if (this.words) {
      const ids = new Int32Array(B * T);
      // the character CNN runs once per distinct word of the batch: (U, C) spellings, and
      // for each position the index of its word among them (row 0 = padding, an empty word)
      const distinct = new Map<string, number>([['', 0]]);
      const wordIndex = new Int32Array(B * T);
      examples.forEach((e, b) => e.tokens!.forEach((w, t) => {
        const drop = options.wordDropout && options.g && options.g.uniform() < options.wordDropout;
        ids[b * T + t] = drop ? this.words!.unk : this.words!.id(w);
        if (!distinct.has(w)) distinct.set(w, distinct.size);
        wordIndex[b * T + t] = distinct.get(w)!;
      }));
      out.ids = tensor(ids, { shape: [B, T] });
      if (this.chars) {
        const C = Math.min(MAX_WORD_CHARS, Math.max(1, ...[...distinct.keys()].map((w) => [...w].length)));
        const spell = new Int32Array(distinct.size * C);
        for (const [w, u] of distinct) [...w].slice(0, C).forEach((c, k) => { spell[u * C + k] = this.chars!.id(c); });
        out.chars = tensor(spell, { shape: [distinct.size, C] });
        out.wordIndex = tensor(wordIndex, { shape: [B, T] });
      }
    } else {
      const f = new Float32Array(B * T * this.frameDim);
      examples.forEach((e, b) => e.frames!.forEach((v, t) => f.set(v, (b * T + t) * this.frameDim)));
      out.frames = tensor(f, { shape: [B, T, this.frameDim] });
    }
    if (examples.some((e) => e.edges)) {
      // node i may look at j only along an edge (either direction) or at itself
      const m = new Int32Array(B * T * T).fill(1);
      examples.forEach((e, b) => {
        for (let i = 0; i < T; i++) m[(b * T + i) * T + i] = 0;
        for (const [u, v] of e.edges ?? []) {
          m[(b * T + u) * T + v] = 0;
          m[(b * T + v) * T + u] = 0;
        }
      });
      out.attnMask = tensor(m, { shape: [B, T, T] });
    }
    return out;
  }
}
