// Byte-pair encoding: the model (a vocabulary and an ordered list of merges) and its trainer.
//
// Encoding a word (one pre-tokenized piece) starts from its characters and applies the merge
// of lowest rank among neighbouring pairs, every occurrence left to right, until none applies
// (GPT-2's bpe(); Hugging Face's BPE model gives the same pieces).
//
// Training is Hugging Face's BpeTrainer step for step, so the same words give the same merges:
// the alphabet (sorted by code point) follows the special tokens, and each step takes the
// pair of highest count, ties to the smallest (id, id), from a heap of pairs. Counts are kept
// incrementally: merging a pair changes only the counts of its neighbours in the words that
// hold it (a `where` index per pair), never a full recount. A heap entry whose count went
// stale is re-pushed with the current count, as Hugging Face does.
import { QkvError } from '../../core/errors.js';

/** A trained or loaded BPE model: token -> id, and merges in rank order. */
export class BpeModel {
  private readonly ids: Map<string, number>;
  /** "a\u0000b" -> rank. */
  private readonly ranks = new Map<string, number>();

  constructor(
    /** Token of each id (ids 0..n-1). */
    readonly tokens: readonly string[],
    readonly merges: readonly (readonly [string, string])[],
    /** Hugging Face's ignore_merges: a word that is a whole token is that token. */
    readonly ignoreMerges = false,
  ) {
    this.ids = new Map(tokens.map((t, i) => [t, i]));
    merges.forEach(([a, b], r) => {
      const key = `${a}\u0000${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, r);
    });
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The ids of one word; a character with no id throws (a byte-level vocabulary has all 256). */
  encodeWord(word: string): number[] {
    const whole = this.ignoreMerges ? this.ids.get(word) : undefined;
    return whole !== undefined ? [whole] : this.mergeWord(word);
  }

  private mergeWord(word: string): number[] {
    let parts = Array.from(word);
    while (parts.length > 1) {
      let best = Infinity;
      let bestPair = '';
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = `${parts[i]}\u0000${parts[i + 1]}`;
        const r = this.ranks.get(key);
        if (r !== undefined && r < best) { best = r; bestPair = key; }
      }
      if (best === Infinity) break;
      const [a, b] = bestPair.split('\u0000') as [string, string];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) { next.push(a + b); i++; } else next.push(parts[i]!);
      }
      parts = next;
    }
    return parts.map((p) => {
      const id = this.ids.get(p);
      if (id === undefined) throw new QkvError(`bpe: the symbol ${JSON.stringify(p)} is not in the vocabulary`);
      return id;
    });
  }
}

export interface BpeTrainOptions {
  /** Stop when the vocabulary (specials, alphabet, merged tokens) has this many entries. */
  vocabSize: number;
  /** Merge only pairs seen at least this many times (Hugging Face's min_frequency, default 0). */
  minFrequency?: number;
  /** Tokens given the first ids (e.g. `<pad>`, `<unk>`). */
  specials?: readonly string[];
  /** Characters always in the alphabet, seen or not (byte-level: all 256). */
  initialAlphabet?: readonly string[];
}

/** One heap entry: a pair, its count when pushed, and the words to merge it in. */
interface Entry { a: number; b: number; count: number; pos: Set<number> }

/** Hugging Face's Merge order: higher count first, then the smaller pair. */
function before(x: Entry, y: Entry): boolean {
  if (x.count !== y.count) return x.count > y.count;
  return x.a !== y.a ? x.a < y.a : x.b < y.b;
}

class Heap {
  private readonly items: Entry[] = [];
  get size(): number { return this.items.length; }
  push(e: Entry): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Entry {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Ids below 2^22, so a pair packs into one exact double. */
const SHIFT = 2 ** 22;
const pairKey = (a: number, b: number) => a * SHIFT + b;

/** Trains BPE on words with their counts (word = a pre-tokenized piece, as a string of symbols). */
export function trainBpe(wordCounts: ReadonlyMap<string, number>, o: BpeTrainOptions): BpeModel {
  const { vocabSize, minFrequency = 0, specials = [], initialAlphabet = [] } = o;
  if (vocabSize >= SHIFT) throw new QkvError(`bpe: a vocabulary of ${vocabSize} is too large (at most ${SHIFT - 1})`);
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const add = (t: string) => {
    if (!ids.has(t)) { ids.set(t, tokens.length); tokens.push(t); }
  };
  specials.forEach(add);
  const alphabet = new Set<string>(initialAlphabet);
  for (const w of wordCounts.keys()) for (const c of w) alphabet.add(c);
  [...alphabet].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!).forEach(add);

  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Array.from(w, (ch) => ids.get(ch)!));
    counts.push(c);
  }
  const pairCounts = new Map<number, number>();
  let where = new Map<number, Set<number>>();
  const note = (key: number, wi: number) => {
    let s = where.get(key);
    if (!s) where.set(key, (s = new Set()));
    s.add(wi);
  };
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) {
      const key = pairKey(w[i]!, w[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + counts[wi]!);
      note(key, wi);
    }
  });
  const heap = new Heap();
  const pushWhere = () => {
    for (const [key, pos] of where) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push({ a: Math.floor(key / SHIFT), b: key % SHIFT, count, pos });
    }
    where = new Map();
  };
  pushWhere();

  const merges: [string, string][] = [];
  while (tokens.length < vocabSize && heap.size) {
    const top = heap.pop();
    const current = pairCounts.get(pairKey(top.a, top.b))!;
    if (top.count !== current) {
      top.count = current;
      heap.push(top);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) break;
    const newToken = tokens[top.a]! + tokens[top.b]!;
    add(newToken);
    const id = ids.get(newToken)!;
    merges.push([tokens[top.a]!, tokens[top.b]!]);
    for (const wi of top.pos) mergeInWord(words[wi]!, top.a, top.b, id, (a, b, change) => {
      const key = pairKey(a, b);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + change * counts[wi]!);
      if (change > 0) note(key, wi);
    });
    pushWhere();
  }
  return new BpeModel(tokens, merges);
}

/** Hugging Face's Word::merge: replaces (a, b) left to right in place, reporting neighbour pair changes. */
function mergeInWord(w: number[], a: number, b: number, id: number, change: (x: number, y: number, d: 1 | -1) => void): void {
  for (let i = 0; i < w.length; i++) {
    if (w[i] !== a || i + 1 >= w.length || w[i + 1] !== b) continue;
    if (i > 0) {
      change(w[i - 1]!, a, -1);
      change(w[i - 1]!, id, 1);
    }
    w.splice(i, 2, id);
    if (i < w.length - 1) {
      change(b, w[i + 1]!, -1);
      change(id, w[i + 1]!, 1);
    }
  }
}
