// Tab-separated readers.
//
// Classification TSV: `text<TAB>label` per line; the text is split into words on whitespace.
// Pairs TSV (seq2seq): `source<TAB>target` per line, each side split into characters or words.
// Blank lines are skipped; there is no header row and no quoting (a field cannot hold a tab).
import { DataError } from './errors.js';
import type { ClassifiedExample, PairExample } from './types.js';
import { fail, nonEmpty, numberedLines, origin } from './text.js';

/** Splits a row into exactly two tab-separated fields, or throws naming the line. */
function twoFields(raw: string, file: string, line: number, names: [string, string]): [string, string] {
  const fields = raw.split('\t');
  const shape = `${names[0]}<TAB>${names[1]}`;
  if (fields.length === 1) fail(file, line, `no tab: expected ${shape}`);
  if (fields.length > 2) fail(file, line, `expected ${shape}, found ${fields.length} tab-separated fields`);
  const [a, b] = [fields[0]!.trim(), fields[1]!.trim()];
  if (a === '') fail(file, line, `empty ${names[0]}`);
  if (b === '') fail(file, line, `empty ${names[1]}`);
  return [a, b];
}

/** Reads `text<TAB>label` rows: tokens = the whitespace-separated words of text. */
export function readClassifyTsv(text: string, file: string): ClassifiedExample[] {
  const out: ClassifiedExample[] = [];
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const [body, label] = twoFields(raw, file, line, ['text', 'label']);
    out.push({ tokens: body.split(/\s+/), label, origin: origin(file, line) });
  }
  return nonEmpty(out, file);
}

export interface PairsOptions {
  /** `chars`: every character (code point, spaces included) is a token; `words`: whitespace-separated words. */
  tokenize: 'chars' | 'words';
}

/** Reads `source<TAB>target` rows into token lists (surrounding whitespace of each side dropped). */
export function readPairsTsv(text: string, file: string, options: PairsOptions): PairExample[] {
  if (options.tokenize !== 'chars' && options.tokenize !== 'words') {
    throw new DataError(file, null, `tokenize must be "chars" or "words", not ${JSON.stringify(options.tokenize)}`);
  }
  const split = options.tokenize === 'chars' ? (s: string) => Array.from(s) : (s: string) => s.split(/\s+/);
  const out: PairExample[] = [];
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const [source, target] = twoFields(raw, file, line, ['source', 'target']);
    out.push({ source: split(source), target: split(target), origin: origin(file, line) });
  }
  return nonEmpty(out, file);
}
