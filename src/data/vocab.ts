// Token vocabularies: words -> ids for the embedding table, and back.
//
// Vocab: ids 0 `<pad>`, 1 `<unk>`, then (when asked, for seq2seq) `<bos>`, `<eos>`, then the
// tokens by falling frequency, ties in code-unit order, so the same data always gives the same
// ids. CharVocab: nanoGPT's character vocabulary, `sorted(set(text))` with no specials.
import { QkvError } from '../core/errors.js';

export const PAD = '<pad>';
export const UNK = '<unk>';
export const BOS = '<bos>';
export const EOS = '<eos>';

export interface VocabOptions {
  /** Keep tokens seen at least this many times (default 1). */
  minFreq?: number;
  /** At most this many entries, specials included (default: no limit). */
  maxSize?: number;
  /** Add `<bos>` (id 2) and `<eos>` (id 3), for seq2seq and language models (default false). */
  bosEos?: boolean;
}

/** What toJSON writes: every token in id order. */
export interface VocabJSON {
  kind: 'vocab';
  tokens: string[];
}

export class Vocab {
  readonly pad = 0;
  readonly unk = 1;
  /** Id of `<bos>` / `<eos>`, or -1 when this vocabulary has none. */
  readonly bos: number;
  readonly eos: number;
  private readonly ids = new Map<string, number>();

  /** A vocabulary whose id i is `tokens[i]`; tokens[0..1] must be `<pad>`, `<unk>`. Use Vocab.build. */
  constructor(readonly tokens: readonly string[]) {
    if (tokens[0] !== PAD || tokens[1] !== UNK) throw new QkvError(`Vocab: ids 0 and 1 must be ${PAD} and ${UNK}, got ${JSON.stringify(tokens.slice(0, 2))}`);
    tokens.forEach((t, i) => {
      if (typeof t !== 'string') throw new QkvError(`Vocab: entry ${i} is not a string`);
      if (this.ids.has(t)) throw new QkvError(`Vocab: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
    this.bos = this.ids.get(BOS) ?? -1;
    this.eos = this.ids.get(EOS) ?? -1;
  }

  /** Builds a vocabulary from token lists (e.g. every example's tokens). */
  static build(sequences: Iterable<readonly string[]>, options: VocabOptions = {}): Vocab {
    const { minFreq = 1, maxSize = Infinity, bosEos = false } = options;
    const specials = bosEos ? [PAD, UNK, BOS, EOS] : [PAD, UNK];
    if (maxSize < specials.length) throw new QkvError(`Vocab.build: maxSize ${maxSize} is smaller than the ${specials.length} special tokens`);
    const counts = new Map<string, number>();
    for (const seq of sequences) for (const t of seq) counts.set(t, (counts.get(t) ?? 0) + 1);
    const kept = [...counts].filter(([t, c]) => c >= minFreq && !specials.includes(t));
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Vocab([...specials, ...kept.slice(0, maxSize - specials.length).map(([t]) => t)]);
  }

  /** Number of ids (the embedding table's rows). */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token (`unk` when unknown). */
  id(token: string): number {
    return this.ids.get(token) ?? this.unk;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The token of an id; throws for an id outside 0..size-1. */
  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new QkvError(`Vocab: id ${id} is out of range for a vocabulary of ${this.size}`);
    return t;
  }

  /** Ids of tokens (unknown -> unk), with `<bos>` / `<eos>` around them when asked. */
  encode(tokens: readonly string[], options: { bos?: boolean; eos?: boolean } = {}): Int32Array {
    for (const k of ['bos', 'eos'] as const) if (options[k] && this[k] < 0) throw new QkvError(`Vocab.encode: this vocabulary has no <${k}> (build it with bosEos: true)`);
    const pre = options.bos ? 1 : 0;
    const out = new Int32Array(pre + tokens.length + (options.eos ? 1 : 0));
    if (options.bos) out[0] = this.bos;
    tokens.forEach((t, i) => { out[pre + i] = this.id(t); });
    if (options.eos) out[out.length - 1] = this.eos;
    return out;
  }

  /** Tokens of ids; `strip` drops `<pad>`, `<bos>` and stops at the first `<eos>`. */
  decode(ids: ArrayLike<number>, options: { strip?: boolean } = {}): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (options.strip && id === this.eos) break;
      if (options.strip && (id === this.pad || id === this.bos)) continue;
      out.push(this.token(id));
    }
    return out;
  }

  toJSON(): VocabJSON {
    return { kind: 'vocab', tokens: [...this.tokens] };
  }

  static fromJSON(json: unknown): Vocab {
    const j = json as Partial<VocabJSON> | null;
    if (j === null || typeof j !== 'object' || j.kind !== 'vocab' || !Array.isArray(j.tokens)) {
      throw new QkvError('Vocab.fromJSON: expected {"kind": "vocab", "tokens": [...]}');
    }
    return new Vocab(j.tokens);
  }
}

/** Code-point order, as Python sorts strings. */
function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

/** A character vocabulary (nanoGPT's `chars = sorted(list(set(text)))`; stoi/itos). */
export class CharVocab {
  private readonly ids = new Map<string, number>();

  constructor(readonly chars: readonly string[]) {
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) throw new QkvError(`CharVocab: entry ${i} ${JSON.stringify(c)} is not one character`);
      if (this.ids.has(c)) throw new QkvError(`CharVocab: character ${JSON.stringify(c)} appears twice`);
      this.ids.set(c, i);
    });
  }

  get size(): number {
    return this.chars.length;
  }

  /** Ids of the characters (code points) of `text`; a character not in the vocabulary is an error. */
  encode(text: string): Int32Array {
    const cs = Array.from(text);
    const out = new Int32Array(cs.length);
    cs.forEach((c, i) => {
      const id = this.ids.get(c);
      if (id === undefined) throw new QkvError(`CharVocab.encode: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at position ${i} is not in the vocabulary`);
      out[i] = id;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]!];
      if (c === undefined) throw new QkvError(`CharVocab.decode: id ${ids[i]} is out of range for a vocabulary of ${this.size}`);
      s += c;
    }
    return s;
  }

  toJSON(): { kind: 'chars'; chars: string[] } {
    return { kind: 'chars', chars: [...this.chars] };
  }

  static fromJSON(json: unknown): CharVocab {
    const j = json as { kind?: unknown; chars?: unknown } | null;
    if (j === null || typeof j !== 'object' || j.kind !== 'chars' || !Array.isArray(j.chars)) {
      throw new QkvError('CharVocab.fromJSON: expected {"kind": "chars", "chars": [...]}');
    }
    return new CharVocab(j.chars as string[]);
  }
}

/** The character vocabulary of `text`, sorted by code point like Python's `sorted(set(text))`. */
export function charVocab(text: string): CharVocab {
  return new CharVocab([...new Set(Array.from(text))].sort(byCodePoint));
}
