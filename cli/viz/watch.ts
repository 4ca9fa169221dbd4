// Training, watched: `qkv train tag|classify|lm|seq2seq --viz PROBE` records the attention
// weights alpha' of every layer and head for one probe input after every evaluation, one JSON
// line per evaluation in DIR/attention.jsonl; `qkv viz --model DIR` reads them back and the page
// plays them as a timeline. A record's top level is one square self-attention over `tokens`
// (tag/classify: the encoder's; lm: the prompt's causal self-attention; seq2seq: the encoder's);
// `parts` holds rectangular ones (seq2seq: cross-attention, target queries x source keys).
// Recording runs without gradients, in eval mode, and draws no random numbers, so a watched run
// trains exactly like an unwatched one.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  data, defaultGenerator, getBackend, inspectModel, loadInstance, QkvError, setBackend, type InspectableModel, type Seq2SeqInput, type TaskInstance, type TrainEvent, type WatchRecord,
} from '../../src/index.js';
import { compactJson } from './page.js';
import { defaultInput, parseInput, splitPair } from './inputs.js';

export const WATCH_FILE = 'attention.jsonl';

/** The probe when --viz names none: tag/classify/lm as `qkv viz` starts; seq2seq: a pair (its target teacher-forced), the built-in set's example or the first held-out pair. */
export function defaultProbe(task: string, meta: Record<string, unknown>, dev: readonly unknown[], blockSize?: number): string {
  if (task === 'lm') return [...defaultInput('lm', meta)].slice(0, blockSize ?? Infinity).join('');
  if (task !== 'seq2seq') return defaultInput(task, meta);
  const e = (typeof meta.builtin === 'string' ? data.builtinDataset(meta.builtin, { seed: 12345, n: 1 })[0] : dev[0]) as data.PairExample | undefined;
  if (!e) return '';
  const sep = e.source.some((t) => t.length > 1) || meta.tokenize === 'words' ? ' ' : '';
  return `${e.source.join(sep)} => ${e.target.join(sep)}`;
}

/**
 * The most positions a --viz probe may have: every evaluation appends its α′ (positions² ×
 * layers × heads numbers) to attention.jsonl, so 512 positions of a 2-layer 4-head model are
 * already about 20 MB per evaluation.
 */
export const MAX_PROBE_POSITIONS = 512;

/** What is wrong with a probe before any model exists (empty parts, too long); '' when nothing is. */
export function probeProblem(task: string, probe: string): string {
  // characters for lm and seq2seq (their tokens at most), words for the taggers
  const positions = task === 'lm' ? [...probe].length : task === 'seq2seq' ? [...splitPair(probe).source].length : probe.trim().split(/\s+/).length;
  if (positions > MAX_PROBE_POSITIONS) {
    return `the probe has ${positions} ${task === 'lm' || task === 'seq2seq' ? 'characters' : 'words'}, more than ${MAX_PROBE_POSITIONS}: its attention (positions² numbers per layer and head) is recorded at every evaluation; give a shorter one`;
  }
  if (task === 'lm') return probe.length ? '' : 'give the prompt to watch, e.g. --viz "To be"';
  if (task !== 'seq2seq') return probe.trim() ? '' : 'give the input to watch, e.g. --viz "I saw a saw" (this data has no built-in example)';
  const { source, target } = splitPair(probe);
  if (!source.trim()) return 'give the source to watch, e.g. --viz "abc => cba" (a target after => or a tab is teacher-forced)';
  return target !== null && !target.trim() ? `the target after the => (or tab) of ${JSON.stringify(probe)} is empty` : '';
}

/** One evaluation's record for the probe. */
export function watchRecord(m: InspectableModel, probe: string, step: number, metrics: Record<string, number>): WatchRecord {
  const heads = (layers: { heads: { alphaPrime: number[][] | null }[] }[]) => layers.map((l) => l.heads.map((h) => h.alphaPrime));
  if (m.config.task === 'lm') {
    // the prompt's causal attention only: generation steps would make each record many times larger
    const r = inspectModel(m, parseInput(m, probe, Infinity), { maxNewTokens: 0 });
    return { step, metrics, part: 'causal self-attention', tokens: r.tokens, blocked: r.blocked, alphaPrime: heads(r.layers) };
  }
  if (m.config.task === 'seq2seq') {
    const { source, target } = splitPair(probe);
    const input = parseInput(m, source, Infinity) as Seq2SeqInput;
    // a fixed target keeps every record's rows the same tokens; without one the rows are the greedy output of that step
    const forced = target === null ? undefined : (parseInput(m, target, Infinity) as Seq2SeqInput).source;
    const r = inspectModel(m, input, { target: forced });
    const cross = r.parts!.find((p) => p.name === 'cross-attention')!;
    return {
      step, metrics, part: 'encoder self-attention', tokens: r.tokens, blocked: r.blocked, alphaPrime: heads(r.layers),
      parts: [{ name: 'cross-attention', tokens: cross.tokens, keys: cross.keys!, blocked: cross.blocked, alphaPrime: heads(cross.layers) }],
      target: forced ? 'teacher-forced' : 'greedy',
    };
  }
  const r = inspectModel(m, parseInput(m, probe, Infinity));
  return { step, metrics, tokens: r.tokens, blocked: r.blocked, alphaPrime: heads(r.layers) };
}

/** The callback for trainSession's onEvaluated: appends one record per evaluation. */
export function watchAttention(out: string, probe: string): (instance: TaskInstance, step: number, metrics: Record<string, number>) => void {
  let off = false;
  return (instance, step, metrics) => {
    if (off) return;
    const m = instance as unknown as InspectableModel;
    const was = m.model.training;
    m.model.eval();
    try {
      appendFileSync(join(out, WATCH_FILE), compactJson(watchRecord(m, probe, step, metrics)) + '\n');
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

/** What --viz gives trainSession: its onEvaluated hook, and on a device an onEvent hook too. */
export interface Watcher {
  onEvaluated: (instance: TaskInstance, step: number, metrics: Record<string, number>) => void;
  onEvent?: (e: TrainEvent) => void;
}

/**
 * --viz when the model trains on a device (the GPU): recording reads every layer's and head's
 * intermediates back, so it runs on the host backend `host`, on the checkpoint the trainer writes
 * right after each evaluation (DIR/last, whose weights it has just read back: watching moves
 * nothing more off the device). The records are those a host run would make for those weights.
 */
export function watchOnHost(driver: Parameters<typeof loadInstance>[0], out: string, record: Watcher['onEvaluated'], host: string): Watcher {
  let evaluated: { step: number; metrics: Record<string, number> } | null = null;
  return {
    onEvaluated: (_instance, step, metrics) => { evaluated = { step, metrics }; },
    onEvent: (e) => {
      // an evaluation's checkpoint (an interrupted run also saves one, after no evaluation)
      if (e.type !== 'checkpoint' || e.kind !== 'last' || evaluated?.step !== e.step) return;
      const { step, metrics } = evaluated;
      evaluated = null;
      const before = getBackend().name;
      const draws = defaultGenerator.getState(); // building the copy initialises weights: training's stream must not see it
      setBackend(host); // the copy and the probe's tensors are made there
      let copy: TaskInstance | null = null;
      try {
        copy = loadInstance(driver, join(out, 'last')).instance;
        record(copy, step, metrics);
      } finally {
        setBackend(before);
        defaultGenerator.setState(draws);
        copy?.model.dispose();
      }
    },
  };
}
