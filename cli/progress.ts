// Progress while training: a bar with the step, epoch, loss, last dev metric and time left on a
// terminal (cli-progress), a plain line per evaluation otherwise (with its time), and every
// event as one JSON line in the run's log.
import { SingleBar } from 'cli-progress';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatDuration, type TrainEvent } from '../src/index.js';
import { fmt } from './shared.js';

export interface ProgressOptions {
  /** JSON-lines log file (appended: a resumed run continues it). */
  log: string | null;
  /** No bar and no per-evaluation lines (for --json). */
  quiet: boolean;
}

export function progress(o: ProgressOptions): { onEvent: (e: TrainEvent) => void; stop: () => void } {
  const tty = Boolean(process.stderr.isTTY) && !o.quiet;
  const bar = tty
    ? new SingleBar({
      format: '{bar} step {value}/{total} | epoch {epoch} | loss {loss} | dev {dev} | {rate} pos/s | lr {lr} | left {left}',
      stream: process.stderr, hideCursor: true,
    })
    : null;
  if (o.log) mkdirSync(dirname(o.log), { recursive: true });
  let smoothed: number | null = null;
  let dev = '-';
  let timeOnly = false;
  return {
    onEvent(e) {
      if (o.log) appendFileSync(o.log, JSON.stringify({ time: new Date().toISOString(), ...e }, (_k, v: unknown) => (v === Infinity ? null : v)) + '\n');
      if (e.type === 'start') {
        // a run bounded by time alone has no step count: the bar grows with the estimate
        timeOnly = !Number.isFinite(e.maxSteps);
        bar?.start(Number.isFinite(e.maxSteps) ? e.maxSteps : e.step + 1, e.step, { loss: '-', rate: '-', lr: '-', epoch: '-', dev, left: '-' });
      } else if (e.type === 'step') {
        if (e.loss !== null) smoothed = smoothed === null ? e.loss : 0.9 * smoothed + 0.1 * e.loss;
        // (a dev-curve run's end is open until its decay starts: the bar's total follows the step)
        if (bar && timeOnly) bar.setTotal(e.secondsLeft !== null ? e.step + Math.round((e.secondsLeft * 1000) / Math.max(e.ms, 1e-3)) : e.step);
        bar?.update(e.step, {
          loss: smoothed === null ? '-' : smoothed.toFixed(4), rate: Math.round((e.positions / e.ms) * 1000), lr: e.lr.toExponential(2), dev,
          epoch: e.epoch === null ? '-' : e.epoch.toFixed(2), left: e.secondsLeft === null ? '-' : formatDuration(e.secondsLeft),
        });
      } else if (e.type === 'decay') {
        if (o.quiet) return;
        const why = e.why === 'plateau' ? 'the dev metric stopped improving' : `the upper bound (${e.why}) is near`;
        const line = `step ${e.step}: ${why}; the learning rate decays over ${e.steps} steps`;
        process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      } else if (e.type === 'eval') {
        dev = `${e.main} ${fmt(e.metrics[e.main])}`;
        if (o.quiet) return;
        const m = Object.entries(e.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ');
        const line = `step ${e.step}: ${m}${e.best ? '  (best)' : ''}  [eval ${(e.ms / 1000).toFixed(1)} s]`;
        // on a terminal: clear the bar's line, print, and let the next update redraw the bar
        process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
