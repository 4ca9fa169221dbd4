// Writing a file so that it is either complete or absent: the bytes go to a temporary file in the
// same directory (`<path>.tmp-<pid>-<random>`), which is fsynced and then renamed over `path`. On
// any failure the temporary file is removed and an existing file at `path` is left as it was.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** A node fs error (ENOENT, EACCES, ...) as one line, or null for another kind of error. */
export function fsReason(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof err.code !== 'string') return null;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
    ENOTEMPTY: 'a non-empty directory is in the way',
  };
  return reasons[err.code] ? `${reasons[err.code]} (${err.code})` : `${err.code}: ${err.message.replace(/\s+/g, ' ')}`;
}

/**
 * Writes the chunks to `path` atomically (streamed: one chunk at a time). A file-system failure
 * becomes `fail("cannot <stage> <name>: <reason>")`; other errors pass through.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>, fail: (message: string) => Error): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | null = null;
  let stage = 'create a temporary file for';
  try {
    fd = openSync(tmp, 'wx');
    stage = 'write';
    for (const bytes of chunks) for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    stage = 'replace';
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the first error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    const reason = fsReason(e);
    if (reason === null) throw e;
    throw fail(`cannot ${stage} ${basename(path)}: ${reason}`);
  }
  // Make the rename itself durable; not possible everywhere (Windows), and the data is safe anyway.
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // best effort
  }
}
