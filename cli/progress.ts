// Progress while training: a bar with ETA, loss and throughput on a terminal (cli-progress),
// a plain line per evaluation otherwise, and every event as one JSON line in the run's log.
import { SingleBar } from 'cli-progress';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainEvent } from '../src/index.js';
import { fmt } from './shared.js';

export interface ProgressOptions {
  total: number;
  start: number;
  /** JSON-lines log file (appended: a resumed run continues it). */
  log: string | null;
  /** No bar and no per-evaluation lines (for --json). */
  quiet: boolean;
}

export function progress(o: ProgressOptions): { onEvent: (e: TrainEvent) => void; stop: () => void } {
  const tty = Boolean(process.stderr.isTTY) && !o.quiet;
  const bar = tty
    ? new SingleBar({
      format: '{bar} {value}/{total} | loss {loss} | {rate} pos/s | lr {lr} | ETA {eta_formatted}',
      stream: process.stderr, hideCursor: true, etaBuffer: 50,
    })
    : null;
  bar?.start(o.total, o.start, { loss: '-', rate: '-', lr: '-' });
  if (o.log) mkdirSync(dirname(o.log), { recursive: true });
  let smoothed: number | null = null;
  return {
    onEvent(e) {
      if (o.log) appendFileSync(o.log, JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
      if (e.type === 'step') {
        smoothed = smoothed === null ? e.loss : 0.9 * smoothed + 0.1 * e.loss;
        bar?.update(e.step, { loss: smoothed.toFixed(4), rate: Math.round((e.positions / e.ms) * 1000), lr: e.lr.toExponential(2) });
      } else if (e.type === 'eval' && !o.quiet) {
        const m = Object.entries(e.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ');
        const line = `step ${e.step}: ${m}${e.best ? '  (best)' : ''}`;
        // on a terminal: clear the bar's line, print, and let the next update redraw the bar
        process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
