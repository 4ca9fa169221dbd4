// Training, watched: `qkv train tag|classify --viz PROBE` records the attention weights alpha'
// of every layer and head for one probe input after every evaluation, one JSON line per
// evaluation in DIR/attention.jsonl; `qkv viz --model DIR` reads them back and the page plays
// them as a timeline. Recording runs without gradients, in eval mode, and draws no random
// numbers, so a watched run trains exactly like an unwatched one.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inspectModel, QkvError, type InspectableModel, type TaskInstance } from '../../src/index.js';
import { compactJson } from './page.js';
import { parseInput } from './inputs.js';

export const WATCH_FILE = 'attention.jsonl';

/** One evaluation's attention for the probe: alphaPrime[layer][head][i][j] (null for linear attention). */
export interface WatchRecord { step: number; metrics: Record<string, number>; tokens: string[]; blocked: boolean[][]; alphaPrime: (number[][] | null)[][] }

/** The callback for trainSession's onEvaluated: appends one record per evaluation. */
export function watchAttention(out: string, probe: string): (instance: TaskInstance, step: number, metrics: Record<string, number>) => void {
  let off = false;
  return (instance, step, metrics) => {
    if (off) return;
    const m = instance as unknown as InspectableModel;
    const was = m.model.training;
    m.model.eval();
    try {
      const r = inspectModel(m, parseInput(m, probe, Infinity));
      const record: WatchRecord = { step, metrics, tokens: r.tokens, blocked: r.blocked, alphaPrime: r.layers.map((l) => l.heads.map((h) => h.alphaPrime)) };
      appendFileSync(join(out, WATCH_FILE), compactJson(record) + '\n');
    } catch (e) {
      if (!(e instanceof QkvError)) throw e;
      off = true; // training goes on; say once why nothing is recorded
      console.error(`qkv: --viz ${JSON.stringify(probe)}: ${e.message}; training goes on without recording attention`);
    } finally {
      if (was) m.model.train();
    }
  };
}

/** The records of the run `dir` names (the run directory or one of its checkpoints), by step; [] when it has none. */
export function readWatch(dir: string): WatchRecord[] {
  const file = [join(dir, WATCH_FILE), join(dirname(dir), WATCH_FILE)].find((f) => existsSync(f) && (f.startsWith(dir) || ['best', 'last'].includes(basename(dir))));
  if (!file) return [];
  const bySteps = new Map<number, WatchRecord>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as WatchRecord;
      if (Number.isInteger(r.step) && Array.isArray(r.alphaPrime)) bySteps.set(r.step, r); // a resumed run repeats steps: the later wins
    } catch {
      // a line cut short by a kill: skip it
    }
  }
  return [...bySteps.values()].sort((a, b) => a.step - b.step);
}
