// Settings from the page's address, so a report can link to a comparison:
// ?task=marker&steps=300&probe=...&a.model=cnn&b.relevance=additive&b.heads=4 (a.KEY / b.KEY for
// each model setting; backend is read by backend.ts). What cannot be read is named in `problems`.
import { DEFAULT_SETTINGS, type PlaySettings } from './settings.js';
import { PLAY_TASKS, type PlayTaskName } from './tasks.js';

export interface AddressSettings {
  task?: PlayTaskName;
  probe?: string;
  steps?: string;
  /** Per model (A, B): the settings the address gives, typed as the form's (a number box left empty is NaN). */
  models: { A: Partial<PlaySettings>; B: Partial<PlaySettings> };
  problems: string[];
}

const KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof PlaySettings)[];

export function readAddress(search: string): AddressSettings {
  const params = new URLSearchParams(search);
  const out: AddressSettings = { models: { A: {}, B: {} }, problems: [] };
  const task = params.get('task');
  if (task !== null) {
    if (PLAY_TASKS.some((t) => t.name === task)) out.task = task as PlayTaskName;
    else out.problems.push(`task=${task.slice(0, 30)} is not a task (${PLAY_TASKS.map((t) => t.name).join(', ')})`);
  }
  const probe = params.get('probe');
  if (probe !== null) out.probe = probe;
  const steps = params.get('steps');
  if (steps !== null) out.steps = steps;
  for (const side of ['A', 'B'] as const) {
    for (const key of KEYS) {
      const v = params.get(`${side.toLowerCase()}.${key}`);
      if (v === null) continue;
      const kind = typeof DEFAULT_SETTINGS[key];
      (out.models[side] as Record<string, unknown>)[key] = kind === 'number' ? (v.trim() === '' ? Number.NaN : Number(v)) : kind === 'boolean' ? v === '1' || v === 'true' : v;
    }
  }
  const known = new Set(['task', 'probe', 'steps', 'backend', ...['a', 'b'].flatMap((side) => KEYS.map((k) => `${side}.${k}`))]);
  for (const k of params.keys()) {
    if (!known.has(k)) out.problems.push(`the address's ${k.slice(0, 30)}= is not a setting (a.KEY or b.KEY with KEY one of ${KEYS.join(', ')}; task, probe, steps, backend)`);
  }
  return out;
}
