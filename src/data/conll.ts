// CoNLL readers for sequence labeling.
//
// CoNLL-U (Universal Dependencies, https://universaldependencies.org/format.html): one token
// per line with 10 tab-separated fields ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC;
// `#` lines are comments; a blank line ends a sentence. Multiword-token lines (ID `3-4`) and
// empty nodes (ID `5.1`) are skipped, so the tokens are the syntactic words 1, 2, 3, ...
//
// Two-column CoNLL: `word<TAB or spaces>tag` per line, a blank line between sentences,
// `-DOCSTART-` lines (CoNLL-2003 document breaks) skipped.
import type { TaggedExample } from './types.js';
import { fail, nonEmpty, numberedLines, origin, quote } from './text.js';

export interface ConlluOptions {
  /** Which tag column becomes the labels: UPOS (column 4, default) or XPOS (column 5). */
  column?: 'upos' | 'xpos';
}

/** Collects token/label pairs into sentences; a blank line (flush) ends one. */
function sentenceCollector(file: string) {
  const out: TaggedExample[] = [];
  let tokens: string[] = [];
  let labels: string[] = [];
  let start = 0;
  return {
    out,
    /** Tokens of the sentence being read. */
    get size(): number {
      return tokens.length;
    },
    add(token: string, label: string, line: number): void {
      if (tokens.length === 0) start = line;
      tokens.push(token);
      labels.push(label);
    },
    flush(): void {
      if (tokens.length > 0) out.push({ tokens, labels, origin: origin(file, start) });
      tokens = [];
      labels = [];
    },
  };
}

/**
 * Reads CoNLL-U text: one TaggedExample per sentence, tokens = FORM, labels = UPOS or XPOS.
 * `origin.line` is the sentence's first token line. Errors: a token line without exactly 10
 * tab-separated fields, an ID that is not an integer or out of order, an empty FORM, and a tag
 * that is `_` or empty in the chosen column.
 */
export function readConllu(text: string, file: string, options: ConlluOptions = {}): TaggedExample[] {
  const column = options.column ?? 'upos';
  const tagField = column === 'upos' ? 3 : 4;
  const name = column.toUpperCase();
  const sentences = sentenceCollector(file);
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') {
      sentences.flush();
      continue;
    }
    if (raw.startsWith('#')) continue;
    const fields = raw.split('\t');
    if (fields.length !== 10) fail(file, line, `expected 10 tab-separated fields, found ${fields.length}`);
    const id = fields[0]!;
    if (/^\d+-\d+$/.test(id) || /^\d+\.\d+$/.test(id)) continue; // multiword token or empty node
    if (!/^\d+$/.test(id)) fail(file, line, `ID ${quote(id)} is not an integer`);
    if (Number(id) !== sentences.size + 1) fail(file, line, `ID ${id} out of order (expected ${sentences.size + 1})`);
    const form = fields[1]!;
    const tag = fields[tagField]!;
    if (form === '') fail(file, line, 'empty FORM');
    if (tag === '_' || tag === '') {
      fail(file, line, `no ${name} tag (${quote(tag)})${column === 'xpos' ? '; this treebank may have only UPOS' : ''}`);
    }
    sentences.add(form, tag, line);
  }
  sentences.flush();
  return nonEmpty(sentences.out, file, 'sentences');
}

/**
 * Reads two-column CoNLL text (`word tag` per line, tab or spaces between them): one
 * TaggedExample per sentence; `origin.line` is its first line. Errors: a line without exactly
 * two columns.
 */
export function readConll(text: string, file: string): TaggedExample[] {
  const sentences = sentenceCollector(file);
  for (const { text: raw, line } of numberedLines(text)) {
    const fields = raw.trim() === '' ? [] : raw.trim().split(/[\t ]+/);
    if (fields.length === 0 || fields[0] === '-DOCSTART-') {
      sentences.flush();
      continue;
    }
    if (fields.length !== 2) fail(file, line, `expected 2 columns (word and tag), found ${fields.length}`);
    sentences.add(fields[0]!, fields[1]!, line);
  }
  sentences.flush();
  return nonEmpty(sentences.out, file, 'sentences');
}
