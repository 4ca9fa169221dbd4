// Ctrl-C (SIGINT) and SIGTERM during a long command. The first signal asks the command to stop
// at its next safe point (between training steps, so a save in progress always completes:
// saves are synchronous and atomic); the command then saves what it has and exits 130 or 143
// with one line. A second signal quits at once, which is still safe for the same reason.
import { QkvError } from '../src/index.js';

/** Exit codes as a shell reports a process killed by the signal: 128 + its number. */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** A command stopped by a signal after saving its work: one line and exit 130/143. */
export class Interrupted extends QkvError {
  override name = 'Interrupted';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** The error for a run that stopped because `signal` was aborted by SIGINT or SIGTERM (its reason). */
export function interruptedRun(signal: AbortSignal, stopMessage: string, where: string): Interrupted {
  return new Interrupted(`${stopMessage}; ${where}`, SIGNAL_EXIT[String(signal.reason)] ?? 130);
}

/** Runs `fn` with an AbortSignal that SIGINT/SIGTERM abort (reason: the signal's name). */
export async function withInterrupts<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nqkv: ${name} again: quitting without waiting\n`);
      process.exit(SIGNAL_EXIT[name] ?? 1);
    }
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Runs a synchronous write (atomic: a temporary file renamed over the target) with SIGINT and
 * SIGTERM held: Node runs a signal's handler only between synchronous steps, so the write
 * completes (or never starts) and the command exits 130/143 right after it, with one line. Without
 * this, a signal's default action could end the process mid-write and leave the temporary file.
 */
export function whileWriting<T>(write: () => T): T {
  let held: NodeJS.Signals | null = null;
  const hold = (name: NodeJS.Signals): void => { held ??= name; };
  process.on('SIGINT', hold);
  process.on('SIGTERM', hold);
  try {
    return write();
  } finally {
    // a signal that arrived during the write is dispatched on the next turn of the event loop
    setImmediate(() => {
      process.off('SIGINT', hold);
      process.off('SIGTERM', hold);
      if (held) {
        process.stderr.write(`qkv: interrupted by ${held}; what was being written is complete\n`);
        process.exit(SIGNAL_EXIT[held] ?? 1);
      }
    });
  }
}
