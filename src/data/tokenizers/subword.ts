// Subword tokens for the tasks: a byte-level BPE tokenizer trained on the training text and
// carried by the checkpoint as tokenizer.json (Hugging Face's format), so a model predicts with
// exactly the tokenizer it was trained with.
import { QkvError } from '../../core/errors.js';
import { BpeTokenizer, parseTokenizerJson, serializeTokenizerJson } from './index.js';
import { BOS, EOS, PAD, UNK } from '../vocab.js';
import type { TaskFile } from '../types.js';

export const TOKENIZER_FILE = 'tokenizer.json';

/** The vocabulary size when --tokenize bpe has no --vocab-size. */
export const DEFAULT_BPE_VOCAB = 1000;

/** Trains the task's tokenizer on its training texts. */
export function trainTaskTokenizer(task: string, texts: Iterable<string>, vocabSize: number | undefined, specials: readonly string[]): BpeTokenizer {
  try {
    return BpeTokenizer.train(texts, { vocabSize: vocabSize ?? DEFAULT_BPE_VOCAB, specials });
  } catch (e) {
    throw new QkvError(`${task}: ${(e as Error).message}`);
  }
}

/** What the checkpoint carries for a tokenizer. */
export function tokenizerFiles(t: BpeTokenizer): Record<string, string> {
  return { [TOKENIZER_FILE]: serializeTokenizerJson(t) };
}

/** The tokenizer a checkpoint carries (an error naming the task when it has none). */
export function tokenizerFromFiles(task: string, files: Readonly<Record<string, TaskFile>> | undefined): BpeTokenizer {
  const f = files?.[TOKENIZER_FILE];
  if (!f) throw new QkvError(`${task}: the model was trained with --tokenize bpe but its checkpoint has no ${TOKENIZER_FILE}`);
  return parseTokenizerJson(f.text, f.path);
}

/** One line describing a tokenizer, for qkv info. */
export function describeTokenizer(t: BpeTokenizer): string {
  const s = t.specials.length ? `, specials ${t.specials.join(' ')}` : '';
  return `byte-level BPE, ${t.size} tokens (${t.model.merges.length} merges${s}), ${TOKENIZER_FILE}`;
}

/** What a sequence-to-sequence model needs of a vocabulary (Vocab has it; so does BpeVocab). */
export interface TokenVocab {
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;
  readonly size: number;
  encode(tokens: readonly string[], options?: { bos?: boolean; eos?: boolean }): Int32Array;
  decode(ids: ArrayLike<number>): string[];
}

/** The specials a sequence-to-sequence BPE tokenizer starts with. */
export const SEQ2SEQ_SPECIALS = [PAD, UNK, BOS, EOS] as const;

/**
 * A BPE tokenizer seen as a vocabulary of characters: a sequence of characters (the exact
 * text) is encoded as the BPE pieces of its text, and ids decode back to characters
 * (specials dropped), so outputs compare and join like character outputs.
 */
export class BpeVocab implements TokenVocab {
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;

  constructor(readonly bpe: BpeTokenizer) {
    [this.pad, this.bos, this.eos] = [bpe.special(PAD), bpe.special(BOS), bpe.special(EOS)];
  }

  get size(): number {
    return this.bpe.size;
  }

  encode(chars: readonly string[], o: { bos?: boolean; eos?: boolean } = {}): Int32Array {
    const ids = this.bpe.encode(chars.join(''));
    if (!o.bos && !o.eos) return ids;
    return Int32Array.from([...(o.bos ? [this.bos] : []), ...ids, ...(o.eos ? [this.eos] : [])]);
  }

  decode(ids: ArrayLike<number>): string[] {
    return Array.from(this.bpe.decode(ids, { skipSpecials: true }));
  }
}
