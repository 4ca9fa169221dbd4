// Reading a data file from disk (Node only; the readers themselves take text, so they also
// work in browsers). Every failure is one DataError line naming the path.
import { readFileSync } from 'node:fs';
import { DataError } from './types.js';

/**
 * The UTF-8 text of `path`. Throws DataError "path: file not found", "path: is a directory",
 * "path: cannot read (EACCES)", "path: not valid UTF-8" or "path: file is empty" (no bytes,
 * or only whitespace).
 */
export function readTextFile(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (e as Error).message})`;
    throw new DataError(path, null, detail);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(path, null, 'not valid UTF-8');
  }
  if (text.replace(/^\ufeff/, '').trim() === '') throw new DataError(path, null, 'file is empty');
  return text;
}
