// Reading a data file from disk (Node only; the readers themselves take text, so they also
// work in browsers). Every failure is one DataError line naming the path.
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DataError } from './errors.js';

/** What pipes and devices gave when first read, by path (they cannot be read twice). */
const streams = new Map<string, Uint8Array>();

/**
 * The UTF-8 text of `path`. Throws DataError "path: file not found", "path: is a directory",
 * "path: cannot read (EACCES)", "path: not valid UTF-8" or "path: file is empty" (no bytes,
 * or only whitespace).
 */
export function readTextFile(path: string): string {
  const bytes = readBinaryFile(path, { allowEmpty: true });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(path, null, 'not valid UTF-8');
  }
  if (text.replace(/^\ufeff/, '').trim() === '') throw new DataError(path, null, 'file is empty');
  // a NUL is never text: a binary or damaged file, refused rather than read as odd words
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new DataError(path, text.slice(0, nul).split('\n').length, 'a NUL byte: this is not a text file (binary or damaged?)');
  return text;
}

/**
 * The bytes of `path` (WAV, PNG, JPEG, ...). Throws DataError "path: file not found", "path: is
 * a directory", "path: cannot read (CODE)", or "path: file is empty" (0 bytes).
 */
export function readBinaryFile(path: string, options: { allowEmpty?: boolean } = {}): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = streams.get(path) ?? readFileSync(path);
    // a pipe (--train <(zcat x.gz)) or a device can be read once: keep its bytes for the next
    // reader of the same path (the format is detected from the text, then the text is parsed)
    if (!streams.has(path) && !statSync(path).isFile()) streams.set(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (e as Error).message})`;
    throw new DataError(path, null, detail);
  }
  if (!options.allowEmpty && bytes.length === 0) throw new DataError(path, null, 'file is empty');
  return bytes;
}

/** `path` as written in a list file: relative paths are taken from the list's folder. */
export function resolveListPath(listFile: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(listFile), path);
}
