// A problem in a data file, found by a reader (or later, by a task reading an example back):
// one line that names the file and line.
import { QkvError } from '../core/errors.js';

/** A problem in a data file: printed as "file:line: message". */
export class DataError extends QkvError {
  override name = 'DataError';
  constructor(readonly file: string, readonly line: number | null, readonly detail: string) {
    super(line === null ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
  }
}
