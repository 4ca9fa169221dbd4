// Helpers shared by the readers: splitting text into numbered lines (LF, CRLF or a lone CR;
// a leading UTF-8 byte-order mark dropped; a missing final newline is fine), and the errors
// every reader throws ("file:line: reason").
import { DataError } from './errors.js';
import type { Origin } from './types.js';

/** One line of a data file with its 1-based number. */
export interface Line {
  text: string;
  line: number;
}

/** The lines of `text`, numbered from 1. A final newline does not make an extra empty line. */
export function numberedLines(text: string): Line[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const parts = body.split(/\r\n|\r|\n/);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((t, i) => ({ text: t, line: i + 1 }));
}

/** Throws the DataError "file:line: detail". */
export function fail(file: string, line: number, detail: string): never {
  throw new DataError(file, line, detail);
}

/** Throws "file: no examples (...)" when a reader found nothing. Returns the examples otherwise. */
export function nonEmpty<T>(examples: T[], file: string, what = 'examples'): T[] {
  if (examples.length === 0) throw new DataError(file, null, `no ${what} (the file is empty or has only blank lines)`);
  return examples;
}

/** The origin record of an example. */
export function origin(file: string, line: number): Origin {
  return { file, line };
}

/** `text` cut to `n` characters with an ellipsis, for quoting bad input in a message. */
export function quote(text: string, n = 40): string {
  return JSON.stringify(text.length > n ? `${text.slice(0, n)}...` : text);
}
