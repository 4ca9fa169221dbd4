// Writing outputs so that they never destroy what they replace.
// - A new path or a regular file: the bytes go to a temporary file in the same directory
//   (`<path>.tmp-<pid>-<random>`), which is fsynced and renamed over the path (over the file a
//   symbolic link points to, so the link stays). On any failure the temporary file is removed
//   and the old file is left as it was.
// - A stream or a device (a named pipe, /dev/null, /dev/full, a terminal, /dev/stdout): written
//   in place, since renaming over it would replace the node itself with a regular file (and a
//   pipe's reader would get nothing). /dev/stdout, /dev/stderr and /dev/fd/N write to that
//   descriptor. Block devices, sockets and anything under /proc or /sys are refused.
// - Several files that belong together (x.onnx + x.decoder.onnx): every temporary file is
//   written first, then all are renamed, the old files kept aside until the last rename, so
//   they are replaced together or not at all.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

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
    ENXIO: 'no reader on the other end (ENXIO)',
    EPIPE: 'the reader went away',
  };
  return reasons[err.code] ? `${reasons[err.code]} (${err.code})` : `${err.code}: ${err.message.replace(/\s+/g, ' ')}`;
}

/** One file to write: its path, its bytes (streamed one chunk at a time) and how a failure is reported. */
export interface FileWrite {
  path: string;
  chunks: Iterable<Uint8Array>;
  fail: (message: string) => Error;
}

type Target =
  | { kind: 'replace'; path: string } // a new path or a regular file: temp + rename over `path`
  | { kind: 'in-place'; path: string } // a character device or a named pipe: opened and written
  | { kind: 'descriptor'; fd: number }; // /dev/stdout, /dev/stderr, /dev/fd/N

class Refused extends Error {}

/** How `path` is written, or a Refused error saying why not. */
function targetOf(path: string): Target {
  const fdMatch = /^\/(?:dev\/(?:fd\/(\d+)|(stdout)|(stderr))|proc\/self\/fd\/(\d+))$/.exec(path);
  if (fdMatch) return { kind: 'descriptor', fd: fdMatch[2] ? 1 : fdMatch[3] ? 2 : Number(fdMatch[1] ?? fdMatch[4]) };
  let stat: Stats | null = null;
  let real = resolve(path);
  try {
    stat = statSync(path);
    real = realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (/^\/(proc|sys)(\/|$)/.test(real)) throw new Refused(`refusing to write under /${real.split('/')[1]} (a kernel interface, not a file)`);
  if (!stat) return { kind: 'replace', path };
  if (stat.isDirectory()) throw new Refused('is a directory (EISDIR)');
  if (stat.isFile()) return { kind: 'replace', path: real };
  if (stat.isCharacterDevice() || stat.isFIFO()) return { kind: 'in-place', path };
  throw new Refused(stat.isBlockDevice() ? 'is a block device (a disk): refusing to write over it' : 'is a socket, not a file');
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, chunks: Iterable<Uint8Array>): void {
  for (const bytes of chunks) {
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(fd, bytes, at, bytes.length - at);
      } catch (e) {
        // Node leaves a pipe on stdout non-blocking: wait for the reader instead of failing
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 2);
      }
    }
  }
}

function closeQuietly(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    // already failing; the first error is the one to report
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/** Makes renames in `dir` durable; not possible everywhere (Windows), and the data is safe anyway. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** A failure of `w` at `stage` as its one-line error (errors that are not the file system's pass through). */
function failure(w: FileWrite, stage: string, e: unknown): Error {
  if (e instanceof Refused) return w.fail(`cannot write ${basename(w.path)}: ${e.message}`);
  const reason = fsReason(e);
  if (reason === null) return e as Error;
  return w.fail(`cannot ${stage} ${basename(w.path)}: ${reason}`);
}

/**
 * Writes `chunks` to `path` so that an existing regular file is replaced whole or not at all, and
 * a device or pipe is written in place (see the top of this file). A file-system failure becomes
 * `fail("cannot <stage> <name>: <reason>")`; other errors pass through.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>, fail: (message: string) => Error): void {
  writeFilesTogether([{ path, chunks, fail }]);
}

/** Writes several files that belong together: the regular ones are replaced all together or none is. */
export function writeFilesTogether(writes: readonly FileWrite[]): void {
  const targets = writes.map((w) => {
    try {
      return targetOf(w.path);
    } catch (e) {
      throw failure(w, 'write', e);
    }
  });
  // 1. every replaced file's bytes to its temporary file, fsynced
  const temps: (string | null)[] = writes.map(() => null);
  const cleanup = () => temps.forEach((t) => { if (t) unlinkQuietly(t); });
  writes.forEach((w, i) => {
    const t = targets[i]!;
    if (t.kind !== 'replace') return;
    const tmp = `${t.path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    let fd: number | null = null;
    let stage = 'create a temporary file for';
    try {
      fd = openSync(tmp, 'wx');
      temps[i] = tmp;
      stage = 'write';
      writeAll(fd, w.chunks);
      fsyncSync(fd);
      closeSync(fd);
      fd = null;
    } catch (e) {
      closeQuietly(fd);
      cleanup();
      throw failure(w, stage, e);
    }
  });
  // 2. the renames; with several files the old ones are kept aside (hard links) until all are in
  const kept: (string | null)[] = writes.map(() => null);
  const several = temps.filter(Boolean).length > 1;
  let at = 0;
  try {
    writes.forEach((_w, i) => {
      const t = targets[i]!;
      at = i;
      if (t.kind !== 'replace') return;
      if (several) {
        const old = `${t.path}.old-${process.pid}-${randomBytes(6).toString('hex')}`;
        try {
          linkSync(t.path, old);
          kept[i] = old;
        } catch {
          // no old file (or no hard links here): nothing to put back
        }
      }
      renameSync(temps[i]!, t.path);
      temps[i] = null;
    });
  } catch (e) {
    // put back what was replaced; remove what was new
    for (let j = 0; j < at; j++) {
      const t = targets[j]!;
      if (t.kind !== 'replace') continue;
      try {
        if (kept[j]) renameSync(kept[j]!, t.path);
        else unlinkQuietly(t.path);
      } catch {
        // best effort
      }
    }
    cleanup();
    kept.forEach((k) => { if (k) unlinkQuietly(k); });
    throw failure(writes[at]!, 'replace', e);
  }
  kept.forEach((k) => { if (k) unlinkQuietly(k); });
  for (const dir of new Set(targets.filter((t) => t.kind === 'replace').map((t) => dirname((t as { path: string }).path)))) syncDirectory(dir);
  // 3. streams and devices, in place (nothing to roll back there)
  writes.forEach((w, i) => {
    const t = targets[i]!;
    if (t.kind === 'replace') return;
    let fd: number | null = null;
    try {
      if (t.kind === 'descriptor') writeAll(t.fd, w.chunks);
      else {
        fd = openSync(t.path, 'w');
        writeAll(fd, w.chunks);
        closeSync(fd);
        fd = null;
      }
    } catch (e) {
      closeQuietly(fd);
      throw failure(w, 'write', e);
    }
  });
}

/**
 * Refuses (with `fail`) to write `output` when it is one of the files this run reads (`inputs`:
 * paths, or directories whose files are read): the same file by path or by inode.
 */
export function refuseOverwritingInputs(output: string, inputs: readonly string[], fail: (message: string) => Error): void {
  const id = (p: string): string | null => {
    try {
      const s = statSync(p);
      return `${s.dev}:${s.ino}`;
    } catch {
      return null;
    }
  };
  const out = id(output);
  if (out === null) return;
  for (const input of inputs) {
    if (id(input) === out) throw fail(`is ${resolve(input) === resolve(output) ? 'a file' : `the same file as ${input}, a file`} this run reads; write the output elsewhere`);
  }
}

