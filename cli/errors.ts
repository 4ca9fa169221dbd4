// The one place the CLI turns an error into what the user reads: one line (at most
// MAX_LINE characters) naming the flag, file or path; exit 1 for the user's mistakes, exit 2
// with an invitation to rerun under QKV_DEBUG=1 for qkv's own bugs. QKV_DEBUG=1 adds the stack.
import { QkvError } from '../src/index.js';
import { Interrupted } from './interrupts.js';

export const MAX_LINE = 300;

/** Node's system errors by code, said plainly. */
const SYSTEM: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTDIR: 'a part of this path is a file, not a directory',
  EISDIR: 'is a directory, not a file',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
};

/** One line: newlines folded, cut to MAX_LINE characters with an ellipsis. */
export function oneLine(message: string): string {
  const flat = message.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length <= MAX_LINE ? flat : `${flat.slice(0, MAX_LINE - 1)}…`;
}

/** A system error from the file system (or null): "PATH: reason". */
export function systemErrorLine(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !(err.code in SYSTEM)) return null;
  const path = err.path ?? (err as { dest?: string }).dest;
  return path ? `${path}: ${SYSTEM[err.code]}` : `${SYSTEM[err.code]} (${err.syscall ?? err.code})`;
}

/** An allocation the machine or the engine cannot make (a size flag asked for too much). */
function outOfMemory(e: unknown): boolean {
  return e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer|Maximum|out of memory|WebAssembly\.Memory/i.test(e.message);
}

export interface Report {
  line: string;
  exitCode: number;
}

/** What to print (after "qkv: ") and the exit code, for any error a command threw. */
export function report(e: unknown): Report {
  if (e instanceof Interrupted) return { line: oneLine(e.message), exitCode: e.exitCode };
  if (e instanceof QkvError) return { line: oneLine(e.message), exitCode: 1 };
  const sys = systemErrorLine(e);
  if (sys) return { line: oneLine(sys), exitCode: 1 };
  if (outOfMemory(e)) {
    return { line: oneLine(`out of memory: ${(e as Error).message}; ask for a smaller model or batch (size flags)`), exitCode: 1 };
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { line: oneLine(`internal error (a bug in qkv): ${msg.split('\n')[0]!.slice(0, 160)} (rerun with QKV_DEBUG=1 to see where)`), exitCode: 2 };
}

export function debugging(): boolean {
  return Boolean(process.env.QKV_DEBUG) && process.env.QKV_DEBUG !== '0';
}
