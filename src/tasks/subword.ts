// Subword tokens for the tasks: a byte-level BPE tokenizer trained on the training text and
// carried by the checkpoint as tokenizer.json (Hugging Face's format), so a model predicts with
// exactly the tokenizer it was trained with.
import { QkvError } from '../core/errors.js';
import { BpeTokenizer, parseTokenizerJson, serializeTokenizerJson } from '../data/tokenizers/index.js';
import type { TaskFile } from './driver.js';

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
