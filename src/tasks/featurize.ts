// From examples to padded batches: word ids (+ character ids per word), or real-valued frames;
// a key padding mask (1 = padding); and, for graphs, an attention mask that lets each node
// look at itself and its neighbours only (lecture §4: self-attention as a graph network).
// With a BPE tokenizer (`tokenize: 'bpe'`) a position is a subword piece: word i becomes the
// pieces of " " + word (the first without the space), and `firsts` gives each word's first
// piece, where the tag task puts the word's label and reads its prediction.
import type { Generator } from '../core/rng.js';
import { QkvError } from '../core/errors.js';
import type { SequenceInput } from '../data/types.js';
import { Vocab, PAD, UNK, type VocabJSON } from '../data/vocab.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import type { FrontEnd } from '../data/frontend.js';
import type { ImageShape } from '../nn/vision/patch-encoder.js';
import type { TaskFile } from './driver.js';
import { tokenizerFiles, tokenizerFromFiles, trainTaskTokenizer } from '../data/tokenizers/subword.js';
import { tensor } from '../ops/creation.js';
import type { InputBatch, InputConfig } from '../nn/models/taggers.js';

export const MAX_WORD_CHARS = 16;

export type FeaturizerJSON =
  | { kind: 'tokens'; words: VocabJSON; chars: VocabJSON | null }
  | { kind: 'frames'; frameDim: number; frontEnd?: FrontEnd }
  | { kind: 'image'; channels: number; height: number; width: number; frontEnd?: FrontEnd }
  | { kind: 'bpe'; size: number };

export interface FeaturizerOptions {
  chars?: boolean;
  minFreq?: number;
  /** 'bpe': subword pieces from a byte-level BPE tokenizer trained on the examples' words (default 'words'). */
  tokenize?: 'words' | 'bpe';
  /** BPE vocabulary size (tokenize 'bpe'). */
  vocabSize?: number;
  /** Names the task in errors. */
  task?: string;
  /** How frames or images were made from files (log-mel of WAV, image pixels), saved with the model. */
  frontEnd?: FrontEnd | null;
}

/** A padded batch; `firsts[b][i]` is the position of word i's first piece (BPE only). */
export type FeaturizedBatch = InputBatch & { lengths: number[]; firsts?: number[][] };

export class Featurizer {
  private constructor(
    readonly words: Vocab | null,
    readonly chars: Vocab | null,
    readonly frameDim: number,
    /** The subword tokenizer (specials `<pad>`, `<unk>` at ids 0 and 1), or null. */
    readonly bpe: BpeTokenizer | null = null,
    /** How frames were made from raw files (log-mel of WAV, image patches), if they were. */
    readonly frontEnd: FrontEnd | null = null,
    /** Image inputs: every image has this (channels, height, width). */
    readonly image: ImageShape | null = null,
  ) {}

  /** Vocabularies (or a BPE tokenizer) from the training examples (tokens), or the frame size (frames). */
  static fromExamples(examples: readonly SequenceInput[], options: FeaturizerOptions = {}): Featurizer {
    const first = examples[0];
    if (!first) throw new QkvError('no training examples');
    const task = options.task ?? 'task';
    if (first.frames) {
      if (options.tokenize === 'bpe') throw new QkvError(`${task}: --tokenize bpe applies to text, but the examples are frames`);
      return new Featurizer(null, null, first.frames[0]?.length ?? 0, null, options.frontEnd ?? null);
    }
    if (first.image) {
      if (options.tokenize === 'bpe') throw new QkvError(`${task}: --tokenize bpe applies to text, but the examples are images`);
      const { channels, height, width } = first.image;
      return new Featurizer(null, null, 0, null, options.frontEnd ?? null, { channels, height, width });
    }
    const tokens = examples.map((e) => e.tokens ?? []);
    if (options.tokenize === 'bpe') return new Featurizer(null, null, 0, trainTaskTokenizer(task, tokens.map((t) => t.join(' ')), options.vocabSize, [PAD, UNK]));
    const words = Vocab.build(tokens, { minFreq: options.minFreq ?? 1 });
    const chars = options.chars === false ? null : Vocab.build(tokens.flat().map((w) => [...w]));
    return new Featurizer(words, chars, 0);
  }

  static fromJSON(json: FeaturizerJSON, files?: Readonly<Record<string, TaskFile>>, task = 'task'): Featurizer {
    if (json.kind === 'bpe') {
      const bpe = tokenizerFromFiles(task, files);
      if (bpe.size !== json.size) throw new QkvError(`${task}: tokenizer.json has ${bpe.size} tokens but the model was trained with ${json.size}`);
      if (bpe.model.id(PAD) !== 0) throw new QkvError(`${task}: tokenizer.json must have ${PAD} at id 0`);
      return new Featurizer(null, null, 0, bpe);
    }
    if (json.kind === 'frames') return new Featurizer(null, null, json.frameDim, null, json.frontEnd ?? null);
    if (json.kind === 'image') return new Featurizer(null, null, 0, null, json.frontEnd ?? null, { channels: json.channels, height: json.height, width: json.width });
    return new Featurizer(Vocab.fromJSON(json.words), json.chars ? Vocab.fromJSON(json.chars) : null, 0);
  }

  /** What the checkpoint carries besides config.json (the BPE tokenizer). */
  files(): Record<string, string> {
    return this.bpe ? tokenizerFiles(this.bpe) : {};
  }

  toJSON(): FeaturizerJSON {
    if (this.bpe) return { kind: 'bpe', size: this.bpe.size };
    if (this.words) return { kind: 'tokens', words: this.words.toJSON(), chars: this.chars?.toJSON() ?? null };
    if (this.image) return { kind: 'image', ...this.image, ...(this.frontEnd ? { frontEnd: this.frontEnd } : {}) };
    return this.frontEnd ? { kind: 'frames', frameDim: this.frameDim, frontEnd: this.frontEnd } : { kind: 'frames', frameDim: this.frameDim };
  }

  inputConfig(): InputConfig {
    if (this.bpe) return { kind: 'tokens', vocabSize: this.bpe.size, charVocabSize: 0 };
    if (this.image) return { kind: 'image', ...this.image };
    return this.words ? { kind: 'tokens', vocabSize: this.words.size, charVocabSize: this.chars?.size ?? 0 } : { kind: 'frames', frameDim: this.frameDim };
  }

  /** Checks an example has the kind of input this model reads. */
  private check(e: SequenceInput, i: number): number {
    const where = (e as { origin?: { file: string; line: number } }).origin;
    const at = where ? `${where.file}:${where.line}: ` : `example ${i}: `;
    if (this.image) {
      const m = this.image;
      if (!e.image) throw new QkvError(`${at}this model reads ${m.channels}×${m.height}×${m.width} images, but the example has ${e.tokens ? 'words' : 'frames'}`);
      if (e.image.channels !== m.channels || e.image.height !== m.height || e.image.width !== m.width) {
        throw new QkvError(`${at}image of ${e.image.channels}×${e.image.height}×${e.image.width} (channels×height×width), the model reads ${m.channels}×${m.height}×${m.width}`);
      }
      return 1;
    }
    if (e.image) throw new QkvError(`${at}this model reads ${this.words || this.bpe ? 'words' : 'frames'}, but the example is an image`);
    if ((this.words || this.bpe) && !e.tokens) throw new QkvError(`${at}this model reads words, but the example has frames`);
    if (!this.words && !this.bpe && !e.frames) throw new QkvError(`${at}this model reads ${this.frameDim}-dim frames, but the example has words`);
    const seq = (e.tokens ?? e.frames)!;
    if (!Array.isArray(seq) || seq.length === 0) throw new QkvError(`${at}the example is empty (no ${this.words || this.bpe ? 'words' : 'frames'})`);
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
  batch(examples: readonly SequenceInput[], options: { wordDropout?: number; g?: Generator } = {}): FeaturizedBatch {
    const lengths = examples.map((e, i) => this.check(e, i));
    if (this.bpe) return this.pieceBatch(examples);
    const B = examples.length;
    if (this.image) {
      // (B, C, H, W); one "position" per image (the vision models make their own sequences)
      const { channels, height, width } = this.image;
      const size = channels * height * width;
      const px = new Float32Array(B * size);
      examples.forEach((e, b) => px.set(e.image!.data, b * size));
      return { images: tensor(px, { shape: [B, channels, height, width] }), keyPaddingMask: tensor(new Int32Array(B), { shape: [B, 1] }), lengths };
    }
    const T = Math.max(1, ...lengths);
    const pad = new Int32Array(B * T).fill(1);
    examples.forEach((_, b) => pad.fill(0, b * T, b * T + lengths[b]!));
    const keyPaddingMask = tensor(pad, { shape: [B, T] });
    const out: FeaturizedBatch = { keyPaddingMask, lengths };
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

  /** A batch of subword pieces (no word dropout: nothing is unknown to byte-level BPE). */
  private pieceBatch(examples: readonly SequenceInput[]): FeaturizedBatch {
    const pieces = examples.map((e) => this.bpe!.encodeWords(e.tokens!));
    const firsts = pieces.map((ws) => {
      let at = 0;
      return ws.map((p) => { const f = at; at += p.length; return f; });
    });
    const lengths = pieces.map((ws) => ws.reduce((a, p) => a + p.length, 0));
    const B = examples.length;
    const T = Math.max(1, ...lengths);
    const pad = new Int32Array(B * T).fill(1);
    const ids = new Int32Array(B * T); // 0 = <pad>
    pieces.forEach((ws, b) => {
      pad.fill(0, b * T, b * T + lengths[b]!);
      let t = b * T;
      for (const p of ws) { ids.set(p, t); t += p.length; }
    });
    if (examples.some((e) => e.edges)) throw new QkvError('graph edges join words, not subword pieces: train graphs without --tokenize bpe');
    return { keyPaddingMask: tensor(pad, { shape: [B, T] }), ids: tensor(ids, { shape: [B, T] }), lengths, firsts };
  }
}
