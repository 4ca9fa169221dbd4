// What `--resume` may and may not change. The model comes from DIR/last, so a model option that
// differs from the run's (a wider --d-model, another --tokenize) would be silently ignored:
// refused, naming each one. Training options that differ (learning rate, batch size, the length
// the schedule is laid over) do change the rest of the run: allowed, and named in a warning.
import { CheckpointError } from '../train/checkpoint.js';

/** Options that shape the model or its vocabulary: a resumed run cannot change them. */
const MODEL_KEYS = new Set(['tokenize', 'vocabSize', 'column']);
/** Options that shape the rest of training: a change is allowed and named. */
const TRAINING_KEYS = new Set(['epochs', 'lr', 'minLr', 'schedule', 'warmup', 'optimizer', 'weightDecay', 'beta1', 'beta2', 'momentum',
  'batchSize', 'accumulate', 'clip', 'labelSmoothing', 'wordDropout', 'seed', 'bucket']);

/** --flag-name of an option key (model.kind is --model; lm's maxSteps is also --max-iters). */
export function flagOf(key: string): string {
  const name = key.replace(/^model\./, '');
  if (key === 'model.kind') return '--model';
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const show = (v: unknown) => (v === undefined || v === null ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v));

export interface ResumeDifferences {
  /** Model options that differ: "--d-model 32 (the run has 64)". */
  model: string[];
  /** Training options that differ. */
  training: string[];
}

/**
 * Options of this call that differ from those `saved` in the checkpoint's config.json
 * (`training`: trainer and task options, the model's under `model`). `explicit`: the flags the
 * user gave (attribute names, e.g. dModel); when given, only those are compared, so a resume
 * without flags continues the run as it was.
 */
export function resumeDifferences(saved: Record<string, unknown>, now: Record<string, unknown>, explicit?: ReadonlySet<string>): ResumeDifferences {
  const given = (key: string) => {
    if (!explicit) return true;
    const attr = key === 'model.kind' ? 'model' : key.replace(/^model\./, '');
    return explicit.has(attr);
  };
  const out: ResumeDifferences = { model: [], training: [] };
  const savedModel = (saved.model ?? {}) as Record<string, unknown>;
  const nowModel = (now.model ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(nowModel)) {
    if (v === undefined || !(k in savedModel) || same(v, savedModel[k]) || !given(`model.${k}`)) continue;
    out.model.push(`${flagOf(`model.${k}`)} ${show(v)} (the run has ${show(savedModel[k])})`);
  }
  for (const [k, v] of Object.entries(now)) {
    if (k === 'model' || v === undefined || !given(k) || same(v, saved[k])) continue;
    if (MODEL_KEYS.has(k)) out.model.push(`${flagOf(k)} ${show(v)} (the run has ${show(saved[k])})`);
    else if (TRAINING_KEYS.has(k)) out.training.push(`${flagOf(k)} ${show(v)} (was ${show(saved[k])})`);
  }
  return out;
}

/** Refuses model differences in one line; returns the warning for training differences (or null). */
export function checkResume(lastDir: string, d: ResumeDifferences): string | null {
  if (d.model.length) {
    throw new CheckpointError(`--resume: ${d.model.join(', ')}: a resumed run keeps the model in ${lastDir}; drop ${d.model.length === 1 ? 'that flag' : 'those flags'}, or train a new run in another --out`);
  }
  return d.training.length ? `--resume: ${d.training.join(', ')}: the rest of the run trains with the new value${d.training.length === 1 ? '' : 's'}` : null;
}
