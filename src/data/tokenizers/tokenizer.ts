// A byte-level BPE tokenizer (GPT-2 / Hugging Face ByteLevel + BPE): special tokens first,
// then the 256 byte characters, then merged tokens. Training, encoding and decoding; the file
// format is Hugging Face's tokenizer.json (tokenizer-json.ts).
import { QkvError } from '../../core/errors.js';
import { BpeModel, trainBpe } from './bpe.js';
import { BYTE_TO_CHAR, byteLevelPieces, fromByteChars, rawPieces, toByteChars, type ByteLevelOptions } from './bytelevel.js';

export interface BpeTokenizerTrainOptions {
  /** Entries in the vocabulary: specials + 256 bytes + merges (at least specials + 256). */
  vocabSize: number;
  /** Special tokens at ids 0, 1, ... (e.g. `<pad>`, `<unk>`, `<bos>`, `<eos>`); never produced from text pieces. */
  specials?: readonly string[];
  /** Merge only pairs seen at least this often (default 2: a pair seen once teaches nothing). */
  minFrequency?: number;
  /** Start from the 256 byte characters (default true, so nothing is unknown); false: only those seen (Hugging Face's default trainer). */
  fullAlphabet?: boolean;
}

export class BpeTokenizer {
  readonly kind = 'bpe';
  private readonly specialIds: Map<string, number>;
  private readonly specialPattern: RegExp | null;
  private readonly cache = new Map<string, number[]>();

  constructor(
    readonly model: BpeModel,
    /** Special tokens (Hugging Face's added tokens) by content; their ids are in the model's vocabulary. */
    readonly specials: readonly string[] = [],
    readonly byteLevel: Required<ByteLevelOptions> = { addPrefixSpace: false, useRegex: true },
  ) {
    this.specialIds = new Map(specials.map((s) => {
      const id = model.id(s);
      if (id === undefined) throw new QkvError(`bpe: the special token ${JSON.stringify(s)} has no id`);
      return [s, id];
    }));
    this.specialPattern = specialsPattern(specials);
  }

  /** Trains on texts (each pre-tokenized as a whole; a file's lines with their newlines give Hugging Face's counts). */
  static train(texts: Iterable<string>, o: BpeTokenizerTrainOptions): BpeTokenizer {
    const specials = o.specials ?? [];
    const full = o.fullAlphabet ?? true;
    const min = specials.length + (full ? 256 : 1);
    if (!Number.isInteger(o.vocabSize) || o.vocabSize < min) {
      throw new QkvError(`bpe: the vocabulary size must be an integer of at least ${min} (${specials.length ? `${specials.length} special tokens + ` : ''}${full ? '256 bytes' : 'one character'}), got ${o.vocabSize}`);
    }
    const byteLevel = { addPrefixSpace: false, useRegex: true };
    const counts = new Map<string, number>();
    const pattern = specialsPattern(specials);
    for (const text of texts) {
      for (const part of splitOn(text, pattern)) {
        if (specials.includes(part)) continue;
        for (const w of byteLevelPieces(part, byteLevel)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
    const model = trainBpe(counts, { vocabSize: o.vocabSize, minFrequency: o.minFrequency ?? 2, specials, initialAlphabet: full ? BYTE_TO_CHAR : [] });
    return new BpeTokenizer(model, specials, byteLevel);
  }

  get size(): number {
    return this.model.size;
  }

  /** The id of a special token (throws when the tokenizer has none of that name). */
  special(token: string): number {
    const id = this.specialIds.get(token);
    if (id === undefined) throw new QkvError(`bpe: the tokenizer has no special token ${token}`);
    return id;
  }

  hasSpecial(token: string): boolean {
    return this.specialIds.has(token);
  }

  /** Token ids of a text (specials written in the text become their ids, as Hugging Face does). */
  encode(text: string): Int32Array {
    const out: number[] = [];
    for (const part of splitOn(text, this.specialPattern)) {
      const sid = this.specialIds.get(part);
      if (sid !== undefined) { out.push(sid); continue; }
      for (const w of rawPieces(part, this.byteLevel)) for (const id of this.pieceIds(w)) out.push(id);
    }
    return Int32Array.from(out);
  }

  /** The ids of one raw piece, remembered (text repeats its words; the byte spelling is the slow part). */
  private pieceIds(piece: string): number[] {
    let ids = this.cache.get(piece);
    if (!ids) {
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(piece, (ids = this.model.encodeWord(toByteChars(piece))));
    }
    return ids;
  }

  /**
   * Pieces of a sentence given as words: word i is encoded as " " + word (the first without
   * the space), as it reads in running text. Returns each word's ids.
   */
  encodeWords(words: readonly string[]): Int32Array[] {
    return words.map((w, i) => this.encode(i === 0 ? w : ` ${w}`));
  }

  /** The token strings of ids (byte characters, as Hugging Face shows them). */
  tokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.token(id));
  }

  token(id: number): string {
    const t = this.model.tokens[id];
    if (t === undefined) throw new QkvError(`bpe: id ${id} is out of range for a vocabulary of ${this.size}`);
    return t;
  }

  /** The text of ids; `skipSpecials` drops special tokens (Hugging Face's skip_special_tokens). */
  decode(ids: ArrayLike<number>, o: { skipSpecials?: boolean } = {}): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.token(ids[i]!);
      if (o.skipSpecials && this.specialIds.has(t)) continue;
      s += t;
    }
    return fromByteChars(s);
  }
}

/** Hugging Face splits added tokens out of the text first, longest first. */
function specialsPattern(specials: readonly string[]): RegExp | null {
  if (!specials.length) return null;
  const escaped = [...specials].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(${escaped.join('|')})`, 'u');
}

/** The non-empty parts of `text` around the specials (which are parts of their own). */
function splitOn(text: string, pattern: RegExp | null): string[] {
  return pattern ? text.split(pattern).filter((p) => p) : text ? [text] : [];
}
