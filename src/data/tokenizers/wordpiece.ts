// BERT's tokenizer as Hugging Face's `tokenizers` runs it from a tokenizer.json: added tokens
// split out of the raw text, BertNormalizer (clean text, spaces around CJK characters, strip
// accents, lowercase), BertPreTokenizer (split on whitespace, each punctuation character its
// own word), WordPiece (greedy longest match first, "##" on word-inner pieces, [UNK] for a
// word that cannot be covered or is longer than max_input_chars_per_word), and the template
// post-processor ([CLS] A [SEP] B [SEP] with token type ids 0 and 1).
import { QkvError } from '../../core/errors.js';

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: follow lowercase (BERT's rule). */
  stripAccents: boolean | null;
  lowercase: boolean;
}

/** One piece of a template: a special token or one of the input sequences, with its token type id. */
export type TemplatePiece = { special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

export interface PostTemplate {
  single: TemplatePiece[];
  pair: TemplatePiece[];
  /** The ids of each special token the templates name. */
  specialIds: Record<string, number[]>;
}

export interface Encoding {
  ids: number[];
  /** Token type ids (segment A = 0, B = 1 in BERT's template). */
  typeIds: number[];
  tokens: string[];
}

const CJK: [number, number][] = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
];
const isChinese = (cp: number): boolean => CJK.some(([a, b]) => cp >= a && cp <= b);
const WHITESPACE = /^\p{White_Space}$/u;
const OTHER = /^\p{C}$/u; // Rust's char::is_other: Cc, Cf, Cs, Co, Cn
const MARK_NONSPACING = /^\p{Mn}$/u;
const PUNCT = /^[\p{P}!-/:-@[-`{-~]$/u; // Unicode punctuation or any ASCII punctuation ($, +, <, =, >, ^, `, |, ~ included)

/** BertNormalizer (tokenizers/src/normalizers/bert.rs), character by character. */
export function bertNormalize(text: string, o: BertNormalizerOptions): string {
  let s = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (o.cleanText) {
      if (cp === 0 || cp === 0xfffd || (c !== '\t' && c !== '\n' && c !== '\r' && OTHER.test(c))) continue;
      if (WHITESPACE.test(c)) { s += ' '; continue; }
    }
    s += o.handleChineseChars && isChinese(cp) ? ` ${c} ` : c;
  }
  if (o.stripAccents ?? o.lowercase) s = [...s.normalize('NFD')].filter((c) => !MARK_NONSPACING.test(c)).join('');
  return o.lowercase ? s.toLowerCase() : s;
}

/** BertPreTokenizer: words split on whitespace, every punctuation character a word of its own. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let w = '';
  for (const c of text) {
    if (WHITESPACE.test(c)) {
      if (w) words.push(w);
      w = '';
    } else if (PUNCT.test(c)) {
      if (w) words.push(w);
      words.push(c);
      w = '';
    } else w += c;
  }
  if (w) words.push(w);
  return words;
}

export class WordPieceTokenizer {
  readonly kind = 'wordpiece';
  private readonly ids: Map<string, number>;
  private readonly addedPattern: RegExp | null;

  constructor(
    /** Token by id (added tokens included). */
    readonly vocab: readonly string[],
    readonly unkToken: string,
    readonly normalizer: BertNormalizerOptions | null,
    readonly post: PostTemplate | null,
    /** Added tokens matched in the raw text before normalisation (BERT's [CLS], [MASK], ...). */
    readonly added: readonly string[] = [],
    readonly prefix = '##',
    readonly maxInputCharsPerWord = 100,
  ) {
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    if (!this.ids.has(unkToken)) throw new QkvError(`wordpiece: the unknown token ${JSON.stringify(unkToken)} is not in the vocab`);
    const escaped = [...added].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedPattern = escaped.length ? new RegExp(`(${escaped.join('|')})`, 'u') : null;
  }

  get size(): number {
    return this.vocab.length;
  }

  id(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The ids of a text without special tokens (no template). */
  encodeText(text: string): { ids: number[]; tokens: string[] } {
    const ids: number[] = [];
    const tokens: string[] = [];
    const parts = this.addedPattern ? text.split(this.addedPattern) : [text];
    parts.forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 1) { // an added token, kept whole
        ids.push(this.ids.get(part)!);
        tokens.push(part);
        return;
      }
      const normal = this.normalizer ? bertNormalize(part, this.normalizer) : part;
      for (const word of bertPreTokenize(normal)) for (const t of this.wordPieces(word)) { ids.push(this.ids.get(t)!); tokens.push(t); }
    });
    return { ids, tokens };
  }

  /** WordPiece on one word: greedy longest match first; the whole word is unknown if any part is. */
  wordPieces(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > this.maxInputCharsPerWord) return [this.unkToken];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | null = null;
      while (start < end) {
        const piece = (start > 0 ? this.prefix : '') + chars.slice(start, end).join('');
        if (this.ids.has(piece)) { found = piece; break; }
        end--;
      }
      if (found === null) return [this.unkToken];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** A text (and an optional second one) through the post-processor's template: ids, token types, tokens. */
  encode(text: string, pair?: string | null, o: { addSpecialTokens?: boolean } = {}): Encoding {
    const a = this.encodeText(text);
    const b = pair == null ? null : this.encodeText(pair);
    if (o.addSpecialTokens === false || !this.post) {
      return {
        ids: [...a.ids, ...(b?.ids ?? [])], typeIds: [...a.ids.map(() => 0), ...(b?.ids.map(() => 1) ?? [])],
        tokens: [...a.tokens, ...(b?.tokens ?? [])],
      };
    }
    const out: Encoding = { ids: [], typeIds: [], tokens: [] };
    for (const p of b ? this.post.pair : this.post.single) {
      if ('special' in p) {
        for (const id of this.post.specialIds[p.special]!) { out.ids.push(id); out.typeIds.push(p.typeId); out.tokens.push(this.vocab[id]!); }
      } else {
        const s = p.sequence === 'A' ? a : b!;
        s.ids.forEach((id, i) => { out.ids.push(id); out.typeIds.push(p.typeId); out.tokens.push(s.tokens[i]!); });
      }
    }
    return out;
  }

  tokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.vocab[id] ?? this.unkToken);
  }

  /** Hugging Face's WordPiece decoder: pieces joined by spaces, "##" pieces glued to the previous one. */
  decode(ids: ArrayLike<number>, o: { skipSpecials?: boolean } = {}): string {
    const skip = new Set(o.skipSpecials === false ? [] : this.added);
    let s = '';
    for (const t of this.tokens(ids)) {
      if (skip.has(t)) continue;
      if (t.startsWith(this.prefix)) s += t.slice(this.prefix.length);
      else s += (s ? ' ' : '') + t;
    }
    return s;
  }
}
