// The lm task's tokenizers: characters (nanoGPT's sorted(set(text))), word pieces, or byte-level
// BPE, behind one interface; the checkpoint carries what rebuilds them.
import { QkvError } from '../../core/errors.js';
import { CharVocab, Vocab } from '../vocab.js';
import type { BpeTokenizer } from './tokenizer.js';
import type { TaskFile } from '../types.js';
import { tokenizerFromFiles } from './subword.js';

export type LmTokenize = 'chars' | 'words' | 'bpe';
export const LM_TOKENIZE: readonly LmTokenize[] = ['chars', 'words', 'bpe'];

/** A language model's vocabulary in its config: `{kind: 'chars', chars}`, `{kind: 'vocab', tokens}`, or `{kind: 'bpe', size}` (the tokens are in tokenizer.json). */
export type LmVocabJSON = { kind: 'chars'; chars: string[] } | { kind: 'vocab'; tokens: string[] } | { kind: 'bpe'; size: number };

/** Text <-> token ids for a language model. */
export interface LmTokenizer {
  readonly kind: LmTokenize;
  readonly size: number;
  /** Ids of a text; `what` names the text in errors (a character the vocabulary lacks is an error; an unknown word is `<unk>`). */
  encode(text: string, what?: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): LmVocabJSON;
  /** The BPE tokenizer (bpe only), saved as the checkpoint's tokenizer.json. */
  readonly bpe?: BpeTokenizer;
}

/** Words (letters, digits, inner apostrophes), whitespace runs, and single other characters: decoding joins them back. */
const WORD_PIECES = /\s+|[\p{L}\p{N}_]+(?:['\u2019][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]/gu;

export function wordPieces(text: string): string[] {
  return text.match(WORD_PIECES) ?? [];
}

export function charTokenizer(v: CharVocab): LmTokenizer {
  const known = new Set(v.chars);
  return {
    kind: 'chars',
    size: v.size,
    encode(text, what = 'the text') {
      let i = 0;
      let line = 1;
      let column = 1;
      for (const c of text) {
        if (!known.has(c)) {
          const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
          throw new QkvError(`lm: ${what} has the character ${JSON.stringify(c)} (${code}) at position ${i} (line ${line}, column ${column}), which is not in the model's vocabulary of ${v.size} characters`);
        }
        i++;
        if (c === '\n') { line++; column = 1; } else column++;
      }
      return v.encode(text);
    },
    decode: (ids) => v.decode(ids),
    toJSON: () => v.toJSON(),
  };
}

export function wordTokenizer(v: Vocab): LmTokenizer {
  return {
    kind: 'words',
    size: v.size,
    encode: (text) => v.encode(wordPieces(text)),
    decode: (ids) => v.decode(ids).join(''),
    toJSON: () => v.toJSON() as LmVocabJSON,
  };
}

export function bpeTokenizer(t: BpeTokenizer): LmTokenizer {
  return { kind: 'bpe', size: t.size, bpe: t, encode: (text) => t.encode(text), decode: (ids) => t.decode(ids), toJSON: () => ({ kind: 'bpe', size: t.size }) };
}

/** The tokenizer a config describes; a BPE one is read from the checkpoint's tokenizer.json. */
export function lmTokenizerFromJSON(json: LmVocabJSON, files?: Readonly<Record<string, TaskFile>>): LmTokenizer {
  if (json.kind === 'bpe') return bpeTokenizer(tokenizerFromFiles('lm', files));
  return json.kind === 'chars' ? charTokenizer(CharVocab.fromJSON(json)) : wordTokenizer(Vocab.fromJSON(json));
}
