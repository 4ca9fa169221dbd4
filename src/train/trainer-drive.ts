// Driving the Trainer's loop, a generator that yields a step's number when it is done or a
// pending read (a device's loss, evaluation or checkpoint) it must get back: synchronously on
// host backends, or asynchronously with a turn of the event loop after every step, so signal
// handlers and timers run between steps.

/** The loop's steps: what they yield, what they return. */
export type Steps<R> = globalThis.Generator<number | Promise<unknown>, R, unknown>;

/** Runs `steps` to the end without waiting; a pending read means a device, which cannot be. */
export function drive<R>(steps: Steps<R>, onPending: () => Error): R {
  let r = steps.next();
  while (!r.done) {
    if (r.value instanceof Promise) throw onPending();
    r = steps.next();
  }
  return r.value;
}

/** Runs `steps` to the end, awaiting each pending read and giving the event loop a turn after each step. */
export async function driveAsync<R>(steps: Steps<R>): Promise<R> {
  let r = steps.next();
  while (!r.done) {
    // a read that fails (a lost GPU) is thrown into the loop, which saves what it can
    let read: unknown;
    try {
      read = r.value instanceof Promise ? await r.value : undefined;
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    if (read === undefined) await yieldToEventLoop();
    r = steps.next(read);
  }
  return r.value;
}

/** A turn of the event loop (setImmediate in Node: no 1 ms timer floor per step). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => {
  if (typeof setImmediate === 'function') setImmediate(resolve);
  else setTimeout(resolve, 0);
});
